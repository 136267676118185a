"""HTML that may be stored and shown: everything from outside passes here.

The allowlist is Mastodon's (../shared/INTEROP.md): what survives here also
survives on a Mastodon timeline, and nothing that can run script does.
"""

from __future__ import annotations

import html
import re

import nh3

ALLOWED_TAGS = {
    "p",
    "br",
    "span",
    "a",
    "del",
    "s",
    "pre",
    "blockquote",
    "code",
    "b",
    "strong",
    "u",
    "i",
    "em",
    "ul",
    "ol",
    "li",
    "ruby",
    "rt",
    "rp",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "span": {"class"},
    "ol": {"start", "reversed"},
    "li": {"value"},
}
URL_SCHEMES = {"http", "https", "mailto", "xmpp", "gemini", "matrix"}


def sanitize_html(fragment: str) -> str:
    """Remove every tag and attribute outside the allowlist; links get rel=nofollow noopener."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)]")


def text_to_html(text: str) -> str:
    """Plain text from a user to safe HTML: paragraphs, line breaks and bare links."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for para in paragraphs:
        escaped = html.escape(para.strip(), quote=True)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        out.append("<p>" + linked.replace("\n", "<br>") + "</p>")
    return sanitize_html("".join(out))


def html_to_text(fragment: str) -> str:
    """Rough plain text of stored HTML, for the CLI and for summaries."""
    text = re.sub(r"<br\s*/?>", "\n", fragment)
    text = re.sub(r"</p>\s*", "\n\n", text)
    text = nh3.clean(text, tags=set())
    return html.unescape(text).strip()


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def plain_line(text: str) -> str:
    """Text safe for a terminal or a log line: no control, escape or bidi characters."""
    return _CONTROL.sub("", text)
