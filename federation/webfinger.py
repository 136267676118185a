"""WebFinger (RFC 7033) as Mastodon uses it, both ways.

Hosts keep their port (``lome@127.0.0.1:8001``): for a local network
that is the only way two nodes on one machine have distinct handles.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit

from federation.http import ApClient, FetchError
from federation.vocab import ACTIVITY_JSON, JRD_JSON, LD_JSON_AS

ACCT = re.compile(r"^@?(?P<user>[^@\s/]+)@(?P<host>[A-Za-z0-9.\-\[\]:]+)$")
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"


class WebFingerError(Exception):
    pass


def parse_acct(value: str) -> tuple[str, str] | None:
    """``name@host[:port]``, ``@name@host`` or ``acct:name@host`` to (name, host)."""
    value = value.strip()
    if value.startswith("acct:"):
        value = value[5:]
    m = ACCT.match(value)
    return (m["user"], m["host"].lower()) if m else None


def jrd(
    subject: str, actor_id: str, profile_url: str, aliases: list[str] | None = None
) -> dict[str, Any]:
    return {
        "subject": subject,
        "aliases": aliases or [actor_id],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": actor_id},
            {"rel": PROFILE_PAGE, "type": "text/html", "href": profile_url},
        ],
    }


def self_link(doc: Any) -> str | None:
    """The actor URL from a JRD: the ``self`` link of an ActivityStreams type."""
    if not isinstance(doc, dict):
        return None
    for link in doc.get("links") or []:
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        ltype = str(link.get("type", "")).replace(" ", "")
        if ltype in (ACTIVITY_JSON, LD_JSON_AS.replace(" ", "")):
            href = link.get("href")
            if isinstance(href, str):
                return href
    return None


async def lookup(client: ApClient, acct: str, *, scheme: str = "https") -> str:
    """Resolve ``name@host`` to an actor URL, or raise WebFingerError with the reason."""
    parsed = parse_acct(acct)
    if parsed is None:
        raise WebFingerError(f"{acct!r} is not an account address like name@host")
    user, host = parsed
    resource = quote(f"acct:{user}@{host}", safe=":@")
    url = f"{scheme}://{host}/.well-known/webfinger?resource={resource}"
    try:
        doc = await client.get_json(url, accept=f"{JRD_JSON}, application/json", sign=False)
    except FetchError as exc:
        if exc.status == 404:
            raise WebFingerError(f"{user}@{host}: no such account on {host}") from exc
        if exc.status == 410:
            raise WebFingerError(f"{user}@{host}: the account is gone (410)") from exc
        raise WebFingerError(f"{user}@{host}: WebFinger failed: {exc}") from exc
    href = self_link(doc)
    if href is None:
        raise WebFingerError(f"{user}@{host}: WebFinger has no ActivityPub 'self' link")
    return href


async def check_round_trip(client: ApClient, actor: dict[str, Any], *, scheme: str) -> None:
    """``preferredUsername@host-of-id`` must WebFinger back to the same id (Mastodon's check)."""
    ident = actor.get("id")
    username = actor.get("preferredUsername")
    if not isinstance(ident, str) or not isinstance(username, str):
        raise WebFingerError("actor has no id or preferredUsername")
    host = urlsplit(ident).netloc
    back = await lookup(client, f"{username}@{host}", scheme=scheme)
    if back != ident:
        raise WebFingerError(f"{username}@{host} resolves to {back}, not to {ident}")
