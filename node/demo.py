"""A small local network in one process: a seat and two sections.

What the README's first command starts. Each node is a real server on
its own loopback port with its own SQLite file; they find each other by
WebFinger and follow each other over signed HTTP, exactly as remote
servers would.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from models.accounts import OPERATOR
from node.actions import follow, init_node, list_following, post_note
from node.app import create_app, make_runner
from node.config import CONFIG_NAME, load_config
from node.context import Node

log = logging.getLogger("coopnet.demo")

NODES = (
    ("siege", "seat", "Siège du réseau"),
    ("lome", "section", "Section de Lomé"),
    ("marseille", "section", "Section de Marseille"),
)


async def run_demo(root: Path, base_port: int, *, check: bool = False) -> int:
    configs = []
    fresh = False
    seat_actor = f"http://127.0.0.1:{base_port}/users/{NODES[0][0]}"
    for i, (name, role, title) in enumerate(NODES):
        data = root / name
        url = f"http://127.0.0.1:{base_port + i}"
        seat = seat_actor if role == "section" else None
        if not (data / CONFIG_NAME).exists():
            await init_node(data, url, name, role, title, seat)
            log.info("created %s (%s) in %s", name, role, data)
            fresh = True
        config = load_config(data)
        if seat and not config.network_seat:
            # A demo made by an older version: its sections trust the demo's seat.
            config.network_seat = seat
            config.save()
        configs.append(config)
    runners = []
    try:
        for config in configs:
            runner = make_runner(create_app(config), config)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", config.port).start()
            runners.append(runner)
        handles = [f"{c.name}@{c.url.split('://', 1)[1]}" for c in configs]
        nodes = [await Node.open(c) for c in configs]
        try:
            for node in nodes:
                for handle in handles:
                    if not handle.startswith(node.config.name + "@"):
                        await follow(node, handle, by=OPERATOR)
            ok = await _wait_accepted(nodes, expected=len(nodes) - 1)
            ok = ok and await _ally_all(nodes, handles)
            if ok and fresh:
                await _seed(nodes, handles)
            if check:
                return await _check(nodes, handles) if ok else 1
            links = await _demo_accounts(nodes) if ok else []
        finally:
            for node in nodes:
                await node.close()
        print("\ncoopnet demo network is up (Ctrl-C to stop):")
        for c, h in zip(configs, handles, strict=True):
            print(f"  {c.role:8} @{h:28} {c.url}/users/{c.name}   data: {c.data_dir}")
        print(
            "\nTry: curl -H 'Accept: application/activity+json' "
            f"{configs[1].url}/users/{configs[1].name}"
        )
        print(f"     coopnet post --data {configs[0].data_dir} 'Bulletin du mois'\n")
        if links:
            print("Log in from a browser: open a link, choose a password (links last 7 days):")
            for who, link in links:
                print(f"  {who:34} {link}")
            print()
        await asyncio.Event().wait()
        return 0
    finally:
        for runner in runners:
            await runner.cleanup()


async def _ally_all(nodes: list[Node], handles: list[str]) -> bool:
    """The demo network is a network: both sections ally with the seat, and with
    each other, through the real protocol (an already accepted pair is kept)."""
    from models.network.alliances import AllianceState, alliance_with
    from node.network.alliances import ally_nodes

    seat, lome, marseille = nodes
    for a, b, b_handle in ((lome, seat, handles[0]), (marseille, seat, handles[0]),
                           (lome, marseille, handles[2])):  # fmt: skip
        async with a.sessions() as session:
            row = await alliance_with(session, b.urls.actor(b.node_username))
        if row is not None and row.state == AllianceState.ACCEPTED:
            continue
        if not await ally_nodes(a, b, b_handle):
            return False
    log.info("the sections are allied with the seat and with each other")
    return True


async def _seed(nodes: list[Node], handles: list[str]) -> None:
    """A network with something in it: authorisations, certified mediators,
    offers, a bulletin, SEL peers and one exchange between sections."""
    from models.accounts import OPERATOR
    from models.mediators import Profile
    from models.offers import OfferDraft
    from node import certification, content, sel

    seat, lome, marseille = nodes
    for handle in handles[1:]:
        await certification.authorize(seat, handle, by=OPERATOR)
    people = [
        (lome, "kossi", "Kossi Amegah", "Lomé"),
        (marseille, "lea", "Léa Martin", "Marseille"),
    ]
    for section, name, display, area in people:
        await content.mediator_add(
            section,
            name,
            Profile(
                name=display,
                skills=["sites web", "hébergement"],
                area=area,
                contact="mailto:contact@example.org",
            ),
            by=OPERATOR,
        )
        await certification.certify(section, name, by=OPERATOR)
        await content.offer_publish(
            section,
            OfferDraft(
                title="Hébergement pour associations",
                description="Un site et une messagerie pour votre association, "
                "avec une **formation** de prise en main.",
                category="hosting",
                price="10 EUR",
                sel_hours="2",
                area=area,
                contact="mailto:contact@example.org",
            ),
            author=name,
            by=OPERATOR,
        )
    await content.bulletin_publish(
        seat,
        "Bulletin du réseau",
        "Bienvenue dans le réseau coopnet.\n\n## Agenda\n\n- réunion de coordination jeudi\n",
        by=OPERATOR,
    )
    for a, b in ((lome, handles[2]), (marseille, handles[1])):
        await sel.peer_add(a, b, "10", "10", by=OPERATOR)
    await sel.account_open(lome, "ama", "Ama", None, None, by=OPERATOR)
    await sel.account_open(marseille, "bob", "Bob", None, None, by=OPERATOR)
    await sel.exchange(
        lome,
        "ama",
        f"bob@{handles[2].split('@', 1)[1]}",
        "1h30",
        "aide à la création d'un site",
        "website",
        by=OPERATOR,
    )
    log.info("seeded: authorisations, mediators, offers, a bulletin, one SEL exchange")


#: (node index, account, roles): people who use the demo from the browser.
DEMO_ACCOUNTS = (
    (0, "coord", ["coordinator"]),
    (1, "coord", ["coordinator"]),
    (1, "ama", ["member:ama"]),
    (1, "kossi", ["mediator:kossi"]),
    (2, "coord", ["coordinator"]),
    (2, "bob", ["member:bob"]),
    (2, "lea", ["mediator:lea"]),
)


async def _demo_accounts(nodes: list[Node]) -> list[tuple[str, str]]:
    """An account for each kind of person on each node, with a fresh link each start."""
    from models.errors import UserError
    from node import users

    links = []
    for index, name, roles in DEMO_ACCOUNTS:
        node = nodes[index]
        try:
            invited = await users.user_add(node, OPERATOR, name, roles)
        except UserError:
            try:
                invited = await users.user_reset(node, OPERATOR, name)
            except UserError as exc:  # a demo made before accounts existed, say
                log.warning("no demo account %s on %s: %s", name, node.config.name, exc)
                continue
        links.append((f"{name} ({', '.join(roles)}) at {node.config.name}", invited.link))
    return links


async def _wait_accepted(nodes: list[Node], expected: int, limit: float = 20.0) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        states = [[r.state for r in await list_following(n, by=OPERATOR)] for n in nodes]
        if all(s.count("accepted") >= expected for s in states):
            log.info("every node follows the two others")
            return True
        await asyncio.sleep(0.2)
    log.error("follows not all accepted after %.0fs", limit)
    return False


async def _check(nodes: list[Node], handles: list[str]) -> int:
    """Post from the seat and wait until both sections have stored the Note."""
    from sqlalchemy import select

    from models.posts import RemoteObject

    note = await post_note(nodes[0], "Bienvenue dans le réseau coopnet !", by=OPERATOR)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while loop.time() < deadline:
        seen = 0
        for node in nodes[1:]:
            async with node.sessions() as session:
                got = await session.execute(
                    select(RemoteObject.id).where(RemoteObject.uri == note.uri)
                )
                seen += got.first() is not None
        if seen == len(nodes) - 1:
            return await _check_chain_and_sel(nodes, note.uri, handles)
        await asyncio.sleep(0.2)
    print("demo check failed: the seat's post did not reach every section")
    return 1


async def _check_chain_and_sel(nodes: list[Node], note_uri: str, handles: list[str]) -> int:
    from sqlalchemy import select

    from models.sel.exchanges import Exchange
    from node import certification, sel

    seat, lome, marseille = nodes
    report = await certification.verify(seat, lome.urls.actor("kossi"))
    if not report.ok:
        print(f"demo check failed: {report.reason}")
        return 1
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while loop.time() < deadline:
        async with lome.sessions() as session:
            states = (await session.execute(select(Exchange.state))).scalars().all()
        if states and all(s == "settled" for s in states):
            break
        await asyncio.sleep(0.2)
    else:
        print("demo check failed: the SEL exchange did not settle")
        return 1
    rec = await sel.reconcile(lome, handles[2], by=OPERATOR)
    if (
        not rec.ok
        or not (await sel.verify(lome, by=OPERATOR)).ok
        or not (await sel.verify(marseille, by=OPERATOR)).ok
    ):
        print(f"demo check failed: SEL disagreement {rec.differences}")
        return 1
    print(
        f"demo check passed: {note_uri} reached {', '.join(handles[1:])}; "
        "mediator certification chain verified; SEL exchange settled and reconciled"
    )
    return 0
