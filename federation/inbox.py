"""Inbox verification: from an HTTP request to a trusted (activity, signer) pair.

Nothing here touches storage: the key lookup is a callable the node passes
in (cache first, fetch on a miss, refetch once when a signature fails so a
rotated key works). The rule that matters most: the key's owner must be
the activity's ``actor``; otherwise anyone with a key could speak for anyone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.http import ApClient, FetchError
from federation.keys import load_public_key
from federation.signatures import SignatureError, parse_request_signature, verify_signature
from federation.vocab import JsonError, as_list, get_id, parse_json, same_origin, strip_fragment


class InboxError(Exception):
    """A request we refuse; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class KeyGone(Exception):
    """The key's actor answered 404/410: it was deleted."""


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    owner: str
    public_key_pem: str


KeyResolver = Callable[[str, bool], Awaitable[KeyInfo | None]]


def parse_activity(body: bytes) -> dict[str, Any]:
    """The activity in an inbox body, refused (400) unless it can be acted on.

    Its ``id``, when present, must be on its actor's server: duplicates are
    detected by id, so an id on someone else's server would let one actor
    pre-claim another's (Mastodon's predictable ``…#delete``) and turn the
    real activity into a silent duplicate.
    """
    try:
        doc = parse_json(body)
    except JsonError as exc:
        raise InboxError(400, f"body is not acceptable JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InboxError(400, "body is JSON but not an object")
    kind = doc.get("type")
    if not isinstance(kind, str) or not kind:
        raise InboxError(400, "activity has no type (or a type that is not a single string)")
    actor = get_id(doc.get("actor"))
    if not actor or not actor.startswith(("https://", "http://")):
        raise InboxError(400, "activity has no actor (an http(s) URL)")
    ident = doc.get("id")
    if ident is not None and not isinstance(ident, str):
        raise InboxError(400, "activity id is not a string")
    if isinstance(ident, str) and not same_origin(ident, actor):
        raise InboxError(400, f"activity id {ident} is not on its actor's server ({actor})")
    return doc


async def verify_request(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    body: bytes | None,
    resolve_key: KeyResolver,
    now: datetime,
    window_seconds: int,
    *,
    actor: str | None = None,
) -> KeyInfo:
    """Check the HTTP signature; raise InboxError(401, reason) on any failure.

    Everything that costs the sender nothing to get wrong is checked before
    the key is fetched: the Date window, the digest, the signed headers and,
    for an activity, that the key lives on its ``actor``'s server (the key's
    owner must be that actor anyway), so a forged request cannot make us
    fetch from a server of its choosing.
    """
    try:
        parsed = parse_request_signature(method, target_uri, headers, body, now, window_seconds)
    except SignatureError as exc:
        raise InboxError(401, f"signature: {exc}") from exc
    if actor is not None and not same_origin(parsed.key_id, actor):
        raise InboxError(
            401, f"signature: key {parsed.key_id} is not on the server of the actor {actor}"
        )
    key = await resolve_key(parsed.key_id, False)
    if key is None:
        raise InboxError(401, f"signature: key {parsed.key_id} could not be obtained")
    if _verifies(parsed, key):
        return key
    fresh = await resolve_key(parsed.key_id, True)
    if (
        fresh is not None
        and fresh.public_key_pem != key.public_key_pem
        and _verifies(parsed, fresh)
    ):
        return fresh
    raise InboxError(401, f"signature does not verify with key {parsed.key_id}")


def _verifies(parsed: Any, key: KeyInfo) -> bool:
    try:
        public = load_public_key(key.public_key_pem)
    except ValueError:
        return False
    return verify_signature(parsed, public)


def check_signer_is_actor(activity: dict[str, Any], key: KeyInfo) -> str:
    actor = get_id(activity.get("actor"))
    if actor != key.owner:
        raise InboxError(401, f"signed by {key.owner}, but the activity's actor is {actor}")
    return actor


async def fetch_key(client: ApClient, key_id: str) -> tuple[KeyInfo, dict[str, Any]]:
    """Fetch a key and its owner's actor document.

    Three shapes are met on the network: Mastodon's ``actor#main-key`` (the
    key inside the actor), a key document of its own with an ``owner``, and
    GoToSocial's ``actor/main-key`` URL answering a stub of the actor (its
    ``id`` is the actor's). In the last two, nothing the first document says
    is believed: the owner is fetched by its own id, must be on the key's
    server, and must list that same key.
    """
    url = strip_fragment(key_id)
    try:
        doc = await client.fetch_object(url, exact_id=False)
    except FetchError as exc:
        if exc.status in (404, 410):
            raise KeyGone(f"{key_id}: the actor is gone (HTTP {exc.status})") from exc
        raise
    if doc.get("id") == url:
        pem = _key_in(doc, key_id)
        if pem is not None:
            return KeyInfo(key_id, str(doc["id"]), pem), doc
        owner = doc.get("owner") if isinstance(doc.get("publicKeyPem"), str) else None
    else:
        # A stub: points at its actor, proves nothing by itself.
        owner = doc.get("id") if _key_in(doc, key_id) is not None else None
    if isinstance(owner, str) and owner != url and same_origin(owner, key_id):
        actor = await client.fetch_object(owner)
        pem = _key_in(actor, key_id)
        if pem is not None:
            return KeyInfo(key_id, owner, pem), actor
    raise FetchError(f"{key_id}: no such key in the document fetched")


def _key_in(doc: dict[str, Any], key_id: str) -> str | None:
    for key in as_list(doc.get("publicKey")):
        if not isinstance(key, dict) or key.get("id") != key_id:
            continue
        owner = key.get("owner")
        pem = key.get("publicKeyPem")
        if owner not in (None, doc.get("id")) or not isinstance(pem, str):
            return None
        return pem
    return None
