"""Markdown written by members, rendered to HTML that is safe to store and show.

Raw HTML in the Markdown is not rendered (``html=False``) and the result
still goes through nh3: two independent locks. Long-form pages may keep
headings and images; what federates to Mastodon is cut further there by
Mastodon's own allowlist, which is why a bulletin's summary stands alone.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import nh3

from models.html import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, URL_SCHEMES, html_to_text

ARTICLE_TAGS = ALLOWED_TAGS | {
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "img",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ARTICLE_ATTRIBUTES = {**ALLOWED_ATTRIBUTES, "img": {"src", "alt", "title"}}


@lru_cache(maxsize=1)
def _md() -> Any:
    from markdown_it import MarkdownIt  # imported on first use: a node that only federates skips it

    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        "table"
    )


def render_markdown(text: str) -> str:
    """Markdown to sanitised HTML; a top-level ``# Title`` becomes ``h2`` (the page has the h1)."""
    raw = _md().render(text)
    raw = re.sub(r"<(/?)h1>", r"<\1h2>", raw)
    return nh3.clean(
        raw,
        tags=ARTICLE_TAGS,
        attributes=ARTICLE_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


def first_paragraph(html: str, limit: int = 500) -> str:
    """Plain text of the first paragraph, cut at a word boundary within ``limit`` characters."""
    match = re.search(r"<p>(.*?)</p>", html, flags=re.S)
    text = html_to_text(match.group(1) if match else html)
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
