"""Converters from our rows to ActivityStreams JSON (one direction, one module)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from federation.integrity import multikey
from federation.vocab import CONTEXT, PUBLIC
from models.actors import LocalActor
from models.html import text_to_html
from models.urls import Urls


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def actor_to_ap(
    urls: Urls,
    actor: LocalActor,
    *,
    role: str | None = None,
    links: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The actor as Mastodon and peers read it.

    ``links`` carries the attestation that vouches for the actor
    (``certification`` of a mediator, ``authorization`` of a section).
    Mediator profile facts also go in ``attachment`` as PropertyValues,
    which is what Mastodon shows as profile fields.
    """
    ident = urls.actor(actor.username)
    doc: dict[str, Any] = {
        "@context": CONTEXT,
        "id": ident,
        "type": actor.type,
        "preferredUsername": actor.username,
        "name": actor.name or actor.username,
        "summary": text_to_html(actor.summary) if actor.summary else "",
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
        # The node's live offers, which an allied node reads when the alliance begins.
        doc["offers"] = f"{ident}/offers"
    if actor.integrity_key_pem:
        doc["assertionMethod"] = [multikey(ident, f"{ident}#ed25519-key", actor.integrity_key_pem)]
    if actor.updated_at:
        doc["updated"] = iso(actor.updated_at)
    fields = []
    skills = actor.skill_list
    if skills:
        doc["skills"] = skills
        fields.append(("Compétences", html.escape(", ".join(skills))))
    if actor.area:
        doc["areaServed"] = actor.area
        fields.append(("Zone", html.escape(actor.area)))
    if actor.contact_url:
        link = html.escape(actor.contact_url)
        fields.append(("Contact", f'<a href="{link}" rel="me nofollow noopener">{link}</a>'))
    if fields:
        doc["attachment"] = [
            {"type": "PropertyValue", "name": name, "value": value} for name, value in fields
        ]
    if actor.avatar_url:
        doc["icon"] = {"type": "Image", "url": actor.avatar_url}
    doc.update(links or {})
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
