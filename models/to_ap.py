"""Converters from our rows to ActivityStreams JSON (one direction, one module)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from federation.vocab import CONTEXT, PUBLIC
from models.actors import LocalActor
from models.urls import Urls


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def actor_to_ap(urls: Urls, actor: LocalActor, *, role: str | None = None) -> dict[str, Any]:
    ident = urls.actor(actor.username)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": ident,
        "type": actor.type,
        "preferredUsername": actor.username,
        "name": actor.name or actor.username,
        "summary": actor.summary,
        "url": ident,
        "inbox": urls.inbox(actor.username),
        "outbox": urls.outbox(actor.username),
        "followers": urls.followers(actor.username),
        "following": urls.following(actor.username),
        "endpoints": {"sharedInbox": urls.shared_inbox()},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "indexable": True,
        "published": iso(actor.created_at),
        "publicKey": {
            "id": urls.key_id(actor.username),
            "owner": ident,
            "publicKeyPem": actor.public_key_pem,
        },
    }
    if role:
        doc["role"] = role
    return doc


def note_to_ap(
    urls: Urls, actor: LocalActor, ident: str, content: str, published: datetime
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": ident,
        "type": "Note",
        "attributedTo": urls.actor(actor.username),
        "content": content,
        "url": ident,
        "published": iso(published),
        "to": [PUBLIC],
        "cc": [urls.followers(actor.username)],
    }


def create_activity(
    urls: Urls, actor: LocalActor, obj: dict[str, Any], ident: str
) -> dict[str, Any]:
    inner = {k: v for k, v in obj.items() if k != "@context"}
    return {
        "@context": CONTEXT,
        "id": ident,
        "type": "Create",
        "actor": urls.actor(actor.username),
        "published": obj.get("published"),
        "to": obj.get("to", []),
        "cc": obj.get("cc", []),
        "object": inner,
    }


def accept_activity(
    urls: Urls, actor: LocalActor, follow: dict[str, Any] | str, ident: str
) -> dict[str, Any]:
    follow_ref = follow
    if isinstance(follow, dict):
        follow_ref = {k: v for k, v in follow.items() if k != "@context"}
    follower = follow.get("actor") if isinstance(follow, dict) else None
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": ident,
        "type": "Accept",
        "actor": urls.actor(actor.username),
        "object": follow_ref,
    }
    if isinstance(follower, str):
        doc["to"] = [follower]
    return doc


def follow_activity(urls: Urls, actor: LocalActor, target: str, ident: str) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": ident,
        "type": "Follow",
        "actor": urls.actor(actor.username),
        "object": target,
        "to": [target],
    }


def undo_activity(
    urls: Urls, actor: LocalActor, inner: dict[str, Any], ident: str
) -> dict[str, Any]:
    return {
        "@context": CONTEXT,
        "id": ident,
        "type": "Undo",
        "actor": urls.actor(actor.username),
        "object": {k: v for k, v in inner.items() if k != "@context"},
    }
