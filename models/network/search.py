"""The directory's text search: one normalised column, built in Python, queried with LIKE.

Why not each database's full-text engine: SQLite's FTS5 and PostgreSQL's
``tsvector`` differ in syntax, in accent handling (``unaccent`` is an
extension an operator may not have) and in how they are migrated; the
directory holds at most a few thousand offers. So the words of an offer are
folded here (lower case, accents dropped: "Électricité" → "electricite"),
each is kept with its French and English Snowball stems ("formations" →
"format"), and the query is folded and stemmed the same way. A query word
matches a row whose column holds a token starting with one of its stems:
the same ``LIKE '% stem%'`` on both databases, over ASCII letters and digits
only, so no wildcard of the user's can reach the pattern
(docs/decisions.md, "The offer directory's search").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer
from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

#: Words of a query looked at (the rest is ignored).
MAX_QUERY_WORDS = 8
#: Characters of a query read.
MAX_QUERY = 200
#: Characters of the search column (an offer's text beyond it is not searched).
MAX_COLUMN = 20_000
#: Query words shorter than this must match a whole token, not a prefix.
MIN_PREFIX = 3

_WORD = re.compile(r"[a-z0-9]+")


@lru_cache(maxsize=2)
def _stemmer(language: str) -> snowballstemmer.stemmer:
    return snowballstemmer.stemmer(language)


def fold(text: str) -> str:
    """Lower case, without accents or ligatures: "Électricité Œuvre" → "electricite oeuvre"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def stems(word: str) -> set[str]:
    """The word and its French and English stems (only non-empty ones)."""
    found = {word}
    for language in ("french", "english"):
        stem = _stemmer(language).stemWord(word)
        if isinstance(stem, str) and stem:
            found.add(stem)
    return found


def search_text(*fields: str | None) -> str:
    """The search column of an offer: its tokens and their stems, space-separated,
    with a space at each end so every token is matched from its start."""
    tokens: dict[str, None] = {}
    for text in fields:
        if not text:
            continue
        for word in words(text[:MAX_COLUMN]):
            for token in sorted(stems(word)):
                tokens.setdefault(token, None)
    body = " ".join(tokens)
    if len(body) > MAX_COLUMN - 2:
        body = body[: MAX_COLUMN - 2].rsplit(" ", 1)[0]
    return f" {body} "


def query_words(query: str) -> list[str]:
    """The words of a person's query that count (folded, de-duplicated, bounded)."""
    seen: dict[str, None] = {}
    for word in words(query[:MAX_QUERY]):
        seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_WORDS]


def matches(
    column: InstrumentedAttribute[str] | ColumnElement[str], query: str
) -> ColumnElement[bool] | None:
    """Every query word found in ``column``; None when the query has no word."""
    wanted = query_words(query)
    if not wanted:
        return None
    clauses: list[ColumnElement[bool]] = []
    for word in wanted:
        if len(word) < MIN_PREFIX:
            clauses.append(column.like(f"% {word} %"))
            continue
        options = [s for s in stems(word) if len(s) >= MIN_PREFIX] or [word]
        clauses.append(or_(*(column.like(f"% {s}%") for s in sorted(options))))
    return and_(*clauses)
