"""Atom 1.0 feeds (RFC 4287) of a node's offers and bulletins.

Pure functions over plain values: the route gathers rows and turns them
into ``FeedEntry`` values, this module only writes XML. Every piece of text
goes through ElementTree, which escapes it; HTML content travels as escaped
text in ``<content type="html">`` (RFC 4287 §3.1.1.2), never as markup.
Characters XML 1.0 cannot carry at all (most C0 controls) are dropped, since
a single one would make the whole feed unreadable.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_CONTENT_TYPE = "application/atom+xml"
#: A feed reader wants what is new; older items stay on the HTML pages.
FEED_LIMIT = 100

_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class FeedEntry:
    """One item: ``summary`` is plain text, ``content_html`` already sanitised HTML."""

    id: str
    title: str
    link: str
    published: datetime
    updated: datetime
    author_name: str
    author_uri: str | None = None
    summary: str = ""
    content_html: str = ""


def rfc3339(dt: datetime) -> str:
    """UTC, second precision, ``Z`` suffix; a naive time is taken as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def xml_text(value: str) -> str:
    """The text with every character XML 1.0 forbids removed."""
    return _NOT_XML.sub("", value)


def plain_excerpt(text: str, limit: int = 300) -> str:
    """Whitespace collapsed, cut at ``limit`` characters (on a word when one is near)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"


def _sub(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, name, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def atom_feed(
    *,
    feed_id: str,
    title: str,
    self_url: str,
    alternate_url: str,
    entries: Sequence[FeedEntry],
    fallback_updated: datetime,
    subtitle: str | None = None,
    lang: str | None = None,
) -> bytes:
    """The feed as UTF-8 bytes with an XML declaration.

    ``updated`` is the newest entry's; ``fallback_updated`` is used for an
    empty feed (RFC 4287 requires the element). Entries are written in the
    order given (callers pass newest first).
    """
    # Tags stay unqualified under a literal default xmlns: ElementTree cannot
    # write a default namespace together with unprefixed attributes.
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    if lang:
        feed.set("xml:lang", xml_text(lang))
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    if subtitle:
        _sub(feed, "subtitle", subtitle)
    newest = max((e.updated for e in entries), default=fallback_updated)
    _sub(feed, "updated", rfc3339(newest))
    _sub(feed, "link", rel="self", type=ATOM_CONTENT_TYPE, href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    _sub(feed, "generator", "coopnet")
    for entry in entries:
        _entry(feed, entry)
    body: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return body


def _entry(feed: ET.Element, entry: FeedEntry) -> None:
    el = _sub(feed, "entry")
    _sub(el, "id", entry.id)
    _sub(el, "title", entry.title)
    _sub(el, "updated", rfc3339(entry.updated))
    _sub(el, "published", rfc3339(entry.published))
    _sub(el, "link", rel="alternate", type="text/html", href=entry.link)
    author = _sub(el, "author")
    _sub(author, "name", entry.author_name)
    if entry.author_uri:
        _sub(author, "uri", entry.author_uri)
    if entry.summary:
        _sub(el, "summary", entry.summary, type="text")
    if entry.content_html:
        _sub(el, "content", entry.content_html, type="html")
