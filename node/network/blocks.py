"""Blocking a domain: what ``coopnet block`` and the coordinator's follows page call."""

from __future__ import annotations

import logging

from models.accounts import Principal
from models.network.blocks import DomainBlock, block, list_blocks, unblock
from node.context import Node

log = logging.getLogger("coopnet.blocks")


async def domain_block(
    node: Node, domain: str, reason: str, *, by: Principal
) -> tuple[DomainBlock, dict[str, int]]:
    """Block at once in this process; other processes follow within BLOCKS_TTL."""
    by.require_coordinator()
    async with node.write() as session:
        row, removed = await block(session, domain, reason, by.name)
    await node.refresh_blocks(force=True)
    node.key_cache.clear()  # no key of theirs stays usable from memory
    gone = ", ".join(f"{n} {what}" for what, n in removed.items() if n) or "nothing else"
    log.warning("%s blocked %s (%s); removed %s", by.name, row.domain, row.reason, gone)
    return row, removed


async def domain_unblock(node: Node, domain: str, *, by: Principal) -> DomainBlock:
    by.require_coordinator()
    async with node.write() as session:
        row = await unblock(session, domain)
    await node.refresh_blocks(force=True)
    log.warning("%s unblocked %s", by.name, row.domain)
    return row


async def domain_blocks(node: Node, *, by: Principal) -> list[DomainBlock]:
    by.require_coordinator()
    async with node.sessions() as session:
        return await list_blocks(session)
