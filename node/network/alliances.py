"""Alliances between nodes: what ``coopnet peer …`` and the coordinator's network page call.

Each action checks that a coordinator (or the operator) acts, opens one
transaction, and either commits the change with the activity it sends or
nothing (models/network/alliance_protocol.py holds the protocol). Asking
resolves the peer first (WebFinger, then its actor document, outside the
transaction); answering and ending name a peer already known here, by
name@host or actor URL.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from models.accounts import Principal
from models.errors import NotFound
from models.network import alliance_protocol as protocol
from models.network.alliances import MAX_NOTE, Alliance, AllianceError, list_alliances
from node.actions import ActionError, resolve_actor
from node.context import Node

log = logging.getLogger("coopnet.alliances")


@dataclass(frozen=True)
class Asked:
    alliance: Alliance
    #: True when the peer had already asked us: asking accepted their request.
    accepted: bool


async def peer_ask(node: Node, target: str, note: str = "", *, by: Principal) -> Asked:
    """Ask a node (name@host or actor URL) for an alliance."""
    by.require_coordinator()
    _check_note(note)
    remote = await resolve_actor(node, target)
    if node.urls.is_local(remote.uri):
        raise AllianceError("a node cannot ally with itself")
    async with node.write() as session:
        row, accepted = await protocol.ask(
            session, node.urls, remote, node.config.role, node.config.network_seat, note
        )
    node.wake_delivery.set()
    log.info("%s asked %s for an alliance (%s)", by.name, row.peer_handle, row.state)
    return Asked(row, accepted)


def _check_note(note: str) -> None:
    if len(note.strip()) > MAX_NOTE:
        raise AllianceError(f"the note is over {MAX_NOTE} characters; shorten it")


async def _peer_uri(node: Node, target: str) -> str:
    """A known peer's actor URI from what a person types: URL, name@host or @name@host."""
    text = target.strip().lstrip("@")
    async with node.sessions() as session:
        for row in await list_alliances(session):
            if text in (row.peer_uri, row.peer_handle):
                return row.peer_uri
    if not text:
        raise ActionError("name the peer: name@host or its actor URL")
    raise NotFound(
        f"no alliance with {target.strip()[:200]!r}: 'coopnet peer list' lists the peers; "
        "'coopnet peer add' asks a new one"
    )


async def peer_approve(node: Node, target: str, *, by: Principal) -> Alliance:
    by.require_coordinator()
    uri = await _peer_uri(node, target)
    async with node.write() as session:
        row = await protocol.approve(
            session, node.urls, uri, node.config.role, node.config.network_seat
        )
    node.wake_delivery.set()
    log.info("%s approved the alliance with %s", by.name, row.peer_handle)
    return row


async def peer_reject(node: Node, target: str, reason: str = "", *, by: Principal) -> Alliance:
    by.require_coordinator()
    uri = await _peer_uri(node, target)
    async with node.write() as session:
        _check_note(reason)
        row = await protocol.reject(session, node.urls, uri, reason)
    node.wake_delivery.set()
    log.info("%s refused the alliance asked by %s", by.name, row.peer_handle)
    return row


async def peer_remove(node: Node, target: str, note: str = "", *, by: Principal) -> Alliance:
    """End an alliance (or withdraw our request); the follows between the two end too."""
    by.require_coordinator()
    uri = await _peer_uri(node, target)
    async with node.write() as session:
        _check_note(note)
        row = await protocol.remove(session, node.urls, uri, note)
    node.wake_delivery.set()
    log.info("%s ended the alliance with %s", by.name, row.peer_handle)
    return row


async def peer_list(node: Node, *, by: Principal) -> list[Alliance]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await list_alliances(session)


async def ally_nodes(a: Node, b: Node, b_handle: str, *, limit: float = 30.0) -> bool:
    """(Demo, benchmarks) two nodes this process opened ally through the real
    protocol: ``a`` asks, ``b`` approves once the request has arrived; True when
    both hold it as accepted within ``limit`` seconds."""
    from models.accounts import OPERATOR
    from models.network.alliances import AllianceState, alliance_with

    a_uri = a.urls.actor(a.node_username)

    async def state(node: Node, peer: str) -> str | None:
        async with node.sessions() as session:
            row = await alliance_with(session, peer)
            return row.state if row is not None else None

    asked = await peer_ask(a, b_handle, by=OPERATOR)
    b_uri = asked.alliance.peer_uri
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    approved = asked.accepted
    while loop.time() < deadline:
        if not approved and await state(b, a_uri) == AllianceState.PENDING:
            await peer_approve(b, a_uri, by=OPERATOR)
            approved = True
        if (
            await state(a, b_uri) == AllianceState.ACCEPTED
            and await state(b, a_uri) == AllianceState.ACCEPTED
        ):
            return True
        await asyncio.sleep(0.1)
    log.error("the alliance of %s and %s was not accepted within %.0f s", a_uri, b_uri, limit)
    return False
