"""Reconciliation between two peer sections: each one's view, and their comparison.

Each section describes its exchanges with the other (``clearing_view``):
what its members paid there, what it received, what it still holds, and a
hash chain over each list. The two views agree when what one paid is what
the other received, the clearing balances are opposite and the chains equal.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.sel.accounts import clearing_account
from models.sel.exchanges import Exchange, Role, State
from models.sel.to_ap import UNIT


def chain_hash(items: list[tuple[int, str, int]]) -> str:
    """Hash chain over (sequence, agreement id, amount), in the responder's commit order.

    Both sides compute it from their own records: equal heads mean the same
    exchanges, same amounts, same order.
    """
    digest = "0" * 64
    for seq, uri, amount in sorted(items):
        digest = hashlib.sha256(f"{digest}|{seq}|{uri}|{amount}".encode()).hexdigest()
    return digest


async def clearing_view(session: AsyncSession, peer_uri: str) -> dict[str, Any]:
    """This node's view of its exchanges with one peer, as the peer may see it."""
    clearing = await clearing_account(session, peer_uri)
    rows = (
        (await session.execute(select(Exchange).where(Exchange.peer_uri == peer_uri)))
        .scalars()
        .all()
    )
    paid = [
        (e.peer_seq or 0, e.uri, e.amount)
        for e in rows
        if e.role == Role.ORIGIN and e.state == State.SETTLED
    ]
    received = [
        (e.peer_seq or 0, e.uri, e.amount)
        for e in rows
        if e.role == Role.RESPONDER and e.state == State.COMMITTED
    ]
    return {
        "peer": peer_uri,
        "unit": UNIT,
        "balance": clearing.balance if clearing else 0,
        "paid": sorted(uri for _, uri, _ in paid),
        "received": sorted(uri for _, uri, _ in received),
        "held": sorted(e.uri for e in rows if e.role == Role.ORIGIN and e.state == State.HELD),
        "chains": {"paid": chain_hash(paid), "received": chain_hash(received)},
    }


def compare_views(ours: dict[str, Any], theirs: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(differences, in-flight notes). What we paid is what they received, and back."""
    diffs: list[str] = []
    flight: list[str] = []
    our_held = set(ours["held"])
    their_held = set(theirs["held"])
    missing_here = set(theirs["received"]) - set(ours["paid"])
    for uri in sorted(missing_here):
        (flight if uri in our_held else diffs).append(
            f"{uri}: committed by the peer, "
            + (
                "settling here (Accept in flight)"
                if uri in our_held
                else "unknown or not settled here"
            )
        )
    for uri in sorted(set(ours["paid"]) - set(theirs["received"])):
        diffs.append(f"{uri}: settled here, not committed by the peer")
    for uri in sorted(set(theirs["paid"]) - set(ours["received"])):
        diffs.append(f"{uri}: settled by the peer, not committed here")
    for uri in sorted(set(ours["received"]) - set(theirs["paid"])):
        (flight if uri in their_held else diffs).append(
            f"{uri}: committed here, "
            + (
                "settling at the peer"
                if uri in their_held
                else "unknown or not settled at the peer"
            )
        )
    if not flight:
        if ours["balance"] != -theirs["balance"]:
            diffs.append(
                f"clearing balances are not opposite: {ours['balance']} here, "
                f"{theirs['balance']} at the peer"
            )
        if ours["chains"]["paid"] != theirs["chains"]["received"]:
            diffs.append("the chain of exchanges paid from here differs from the peer's")
        if ours["chains"]["received"] != theirs["chains"]["paid"]:
            diffs.append("the chain of exchanges received here differs from the peer's")
    return diffs, flight
