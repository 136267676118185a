"""A section's report on the wire: the activities that carry it, and their checks.

The report travels as a ``Create`` (first sending) or an ``Update`` (a
corrected report for the same semester: same object id, newer ``updated``)
of an ``EvaluationReport`` object, addressed to the seat's node actor only::

    {"@context": [AS, {coopnet terms}], "type": "Create" | "Update",
     "id": "<section>/activities/<uuid>", "actor": "<section actor>",
     "to": ["<seat actor>"], "published": "…",
     "object": {"type": "EvaluationReport", "id": "<section>/reports/<uuid>",
                "attributedTo": "<section actor>", "to": ["<seat actor>"],
                "name": "…", "semester": "2026-S2", "asOf": "2026-12-31",
                "figures": {<report_figures.FIGURES keys>},
                "content": "<HTML of the coordinator's text>", "mediaType": "text/html",
                "source": {"content": "<Markdown>", "mediaType": "text/markdown"},
                "published": "…", "updated": "…"}}

No ``cc``, no Public, no followers collection: nothing addresses it to
anyone but the seat. The seat answers with an ``Accept`` whose ``object`` is
the Create's or Update's id, ``to`` the section only.

``parse_report`` is what the seat believes of an incoming one: everything is
checked and a refusal says why (``ReportRefused``); nothing is stored
unless all of it passes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from federation.vocab import (
    AS_CONTEXT,
    PUBLIC_ALIASES,
    as_list,
    attributed_to_signer,
    get_id,
    has_type,
    our_terms,
    parse_time,
    same_origin,
)
from models.charter.hostings import Semester
from models.errors import UserError
from models.html import plain_line, sanitize_html
from models.markdown import render_markdown
from models.network.report_figures import (
    COUNT,
    FIGURES,
    MAP,
    MAX_COUNT,
    MAX_KEY_CHARS,
    MAX_KEYS,
    MAX_MAP,
    MAX_MAP_KEY_CHARS,
    NUMBER,
    Figures,
)

REPORT_TYPE = "EvaluationReport"
REPORT_CONTEXT: list[Any] = [
    AS_CONTEXT,
    our_terms(REPORT_TYPE, "semester", "asOf", "figures"),
]
#: The coordinator's text: Markdown source, and the HTML a received one may carry.
MAX_TEXT = 20_000
MAX_HTML = 100_000
MAX_NAME = 200

_KEY = re.compile(rf"^[a-z][a-z0-9_]{{0,{MAX_KEY_CHARS - 1}}}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class ReportRefused(UserError):
    """An incoming report the seat does not keep; the message says why."""


def report_object(
    *,
    uri: str,
    section: str,
    seat: str,
    name: str,
    semester: str,
    as_of: date | None,
    figures: Figures,
    markdown: str,
    published: str,
    updated: str | None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": uri,
        "type": REPORT_TYPE,
        "attributedTo": section,
        "to": [seat],
        "name": name,
        "semester": semester,
        "figures": figures,
        "content": render_markdown(markdown) if markdown.strip() else "",
        "mediaType": "text/html",
        "source": {"content": markdown, "mediaType": "text/markdown"},
        "published": published,
    }
    if as_of is not None:
        doc["asOf"] = as_of.isoformat()
    if updated is not None:
        doc["updated"] = updated
    return doc


def report_activity(
    ident: str, verb: str, section: str, seat: str, obj: dict[str, Any], published: str
) -> dict[str, Any]:
    return {
        "@context": REPORT_CONTEXT,
        "id": ident,
        "type": verb,
        "actor": section,
        "to": [seat],
        "published": published,
        "object": obj,
    }


def acknowledgement(ident: str, seat: str, section: str, activity_id: str) -> dict[str, Any]:
    """The seat's Accept of one sending of a report, to the section only."""
    return {
        "@context": AS_CONTEXT,
        "id": ident,
        "type": "Accept",
        "actor": seat,
        "to": [section],
        "object": activity_id,
    }


def refusal(ident: str, seat: str, section: str, activity_id: str, reason: str) -> dict[str, Any]:
    """The seat's Reject of one sending of a report, with the reason, to the section only."""
    return {
        "@context": AS_CONTEXT,
        "id": ident,
        "type": "Reject",
        "actor": seat,
        "to": [section],
        "object": activity_id,
        "content": reason[:500],
    }


# ----------------------------------------------------------------------------- incoming


def _check_value(key: str, value: Any, shape: str | None) -> Any:
    def bad(what: str) -> ReportRefused:
        return ReportRefused(f"figure {key!r}: {what}")

    def count(v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise bad("expected a whole number")
        if not 0 <= v <= MAX_COUNT:
            raise bad(f"out of range (0 to {MAX_COUNT})")
        return v

    if shape == COUNT:
        return count(value)
    if shape == NUMBER or (shape is None and isinstance(value, float)):
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad("expected a number")
        if not math.isfinite(value) or not 0 <= value <= MAX_COUNT:
            raise bad(f"out of range (0 to {MAX_COUNT})")
        return round(float(value), 2)
    if shape == MAP or (shape is None and isinstance(value, dict)):
        if not isinstance(value, dict):
            raise bad("expected an object of whole numbers")
        if len(value) > MAX_MAP:
            raise bad(f"more than {MAX_MAP} entries")
        out: dict[str, int] = {}
        for k, v in value.items():
            if not k or len(k) > MAX_MAP_KEY_CHARS or _CONTROL.search(k):
                raise bad("an entry's name is empty, too long or has control characters")
            out[k] = count(v)
        return out
    if shape is None and (value is None or isinstance(value, int)):
        return None if value is None else count(value)
    raise bad("expected a whole number, a number or an object of whole numbers")


def check_figures(raw: Any) -> Figures:
    """The figures as the seat keeps them.

    Known keys must have their shape (``FIGURES``); unknown keys (a newer
    section's figure) are kept when they have one of the three shapes, so
    the seat shows them once it learns them. Anything else refuses the whole
    report: a figure of the wrong type is a bug or a forgery, not a number.
    """
    if not isinstance(raw, dict):
        raise ReportRefused("the figures must be a JSON object")
    if len(raw) > MAX_KEYS:
        raise ReportRefused(f"more than {MAX_KEYS} figures")
    out: Figures = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise ReportRefused(f"figure name {str(key)[:40]!r} is not a lower-case identifier")
        out[key] = _check_value(key, value, FIGURES.get(key))
    return out


@dataclass(frozen=True)
class IncomingReport:
    uri: str
    activity_uri: str
    semester: Semester
    name: str
    figures: Figures
    #: Sanitised HTML of the coordinator's text.
    html: str
    as_of: date | None
    #: When the section sent this version (its ``updated``, else ``published``).
    version: datetime | None


def _public(doc: dict[str, Any]) -> bool:
    fields = ("to", "cc", "bto", "bcc", "audience")
    audience = [get_id(a) for field in fields for a in as_list(doc.get(field))]
    return any(a in PUBLIC_ALIASES for a in audience)


def _text(obj: dict[str, Any]) -> str:
    source = obj.get("source")
    if isinstance(source, dict) and source.get("mediaType") == "text/markdown":
        markdown = source.get("content")
        if not isinstance(markdown, str):
            raise ReportRefused("the text's source must be a string")
        if len(markdown) > MAX_TEXT:
            raise ReportRefused(f"the text is over {MAX_TEXT} characters")
        # Rendered here, from the Markdown: no HTML of the sender's is kept.
        return render_markdown(markdown) if markdown.strip() else ""
    content = obj.get("content", "")
    if not isinstance(content, str):
        raise ReportRefused("the text (content) must be a string")
    if len(content) > MAX_HTML:
        raise ReportRefused(f"the text is over {MAX_HTML} characters")
    return sanitize_html(content)


def parse_report(activity: dict[str, Any], signer: str, us: str) -> IncomingReport:
    """What the seat keeps of a Create/Update of a report, or ReportRefused."""
    obj = activity.get("object")
    if not isinstance(obj, dict) or not has_type(obj, REPORT_TYPE):
        raise ReportRefused("the activity does not carry an EvaluationReport object")
    ident = activity.get("id")
    if not isinstance(ident, str) or not ident or len(ident) > 2048:
        raise ReportRefused("the activity has no usable id")
    uri = get_id(obj)
    if not uri or len(uri) > 2048 or not same_origin(uri, signer):
        raise ReportRefused("the report's id is not on the sender's server")
    if not attributed_to_signer(obj, signer) or obj.get("attributedTo") is None:
        raise ReportRefused("the report is not attributed to its sender")
    if _public(activity) or _public(obj):
        raise ReportRefused("a report is sent to the seat only, never publicly")
    if us not in [get_id(a) for a in as_list(activity.get("to"))]:
        raise ReportRefused("the report is not addressed to this node")
    period = obj.get("semester")
    if not isinstance(period, str):
        raise ReportRefused("the report has no semester")
    try:
        semester = Semester.parse(period[:20])
    except UserError as exc:
        raise ReportRefused(str(exc)) from None
    figures = check_figures(obj.get("figures"))
    name = obj.get("name", "")
    name = plain_line(name)[:MAX_NAME] if isinstance(name, str) else ""
    as_of = None
    raw_day = obj.get("asOf")
    if raw_day is not None:
        try:
            as_of = date.fromisoformat(str(raw_day)[:10])
        except ValueError:
            raise ReportRefused("asOf must be a date (YYYY-MM-DD)") from None
    version = parse_time(obj.get("updated")) or parse_time(obj.get("published"))
    return IncomingReport(
        uri=uri,
        activity_uri=ident,
        semester=semester,
        name=name,
        figures=figures,
        html=_text(obj),
        as_of=as_of,
        version=version,
    )
