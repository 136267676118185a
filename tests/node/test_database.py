"""Moving a node's data: backup and restore, SQLite to PostgreSQL, schema upgrades.

A node with deliveries still queued (its workers stepped by hand, so
nothing has gone out) is backed up or copied, stopped, and started again
from the restored or copied database on the same URL: the queued
activities reach the Mastodon-like peer, once each, signed with the same
key. Backup and restore run on the backend under test; the copy goes from
SQLite to the test PostgreSQL server.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from models.accounts import OPERATOR
from models.follows import Follower
from models.outbox import Delivery, DeliveryState
from node.actions import post_note
from node.app import create_app, make_runner
from node.cli import main
from node.config import load_config
from node.context import Node
from node.worker import InboxWorker
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import MastodonLikePeer
from tests.pg import on_postgresql, server


async def cli(*argv: str) -> tuple[int, str, str]:
    import contextlib
    import io

    def run() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
        return code, out.getvalue(), err.getvalue()

    return await asyncio.to_thread(run)


async def queued_node(make_node: MakeNode, peer: MastodonLikePeer) -> tuple[RunningNode, str]:
    """A node that accepted alice's Follow and posted a note, nothing delivered yet."""
    rn = await make_node("lome", run_workers=False)
    await peer.follow(rn.acct)
    worker = InboxWorker(rn.node)

    async def followed() -> bool:
        await worker.run_once()
        return await rn.count(Follower) == 1

    await peer.wait_until(followed, what="the node storing alice's Follow")
    note = await post_note(rn.node, "Permanence jeudi", by=OPERATOR)
    pending = await rn.count(Delivery, Delivery.state == DeliveryState.PENDING)
    assert pending == 2  # the Accept and the Create, both to alice
    return rn, note.uri


async def serve_again(data: Path) -> tuple[web.AppRunner, Node]:
    """The node of ``data`` on its own URL's port, workers running."""
    config = load_config(data)
    port = urlsplit(config.url).port
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    config.delivery_poll_seconds = 0.1
    app = create_app(config)
    runner = make_runner(app, config)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    from node.web import NODE

    node = app[NODE].node
    assert node is not None
    return runner, node


async def received_once(peer: MastodonLikePeer, note_uri: str) -> None:
    def creates() -> list[Any]:
        return [
            r
            for r in peer.received
            if r.type == "Create" and isinstance(r.object, dict) and r.object["id"] == note_uri
        ]

    await peer.wait_until(lambda: len(creates()) == 1, what="the queued Create", timeout=15)
    await peer.wait_until(lambda: peer.following["alice"] != {}, what="the queued Accept")
    await asyncio.sleep(0.3)  # a second copy would arrive within the poll interval
    assert len(creates()) == 1


async def test_backup_and_restore_resume_queued_deliveries(
    make_node: MakeNode, tmp_path: Path
) -> None:
    async with MastodonLikePeer() as peer:
        rn, note_uri = await queued_node(make_node, peer)
        key_before = rn.node.signer.private_key_pem
        archive = tmp_path / "lome.tar"
        code, out, err = await cli(
            "backup", "--data", str(rn.config.data_dir), "--out", str(archive)
        )
        assert code == 0, err
        assert archive.stat().st_mode & 0o777 == 0o600
        await rn.runner.cleanup()  # the machine is lost

        restored = tmp_path / "restored"
        extra = ["--database", await (await server()).new_database(None)] if on_postgresql() else []
        code, out, err = await cli("restore", "--data", str(restored), str(archive), *extra)
        assert code == 0, err
        assert "restored @lome" in out
        runner, node = await serve_again(restored)
        try:
            assert node.signer.private_key_pem == key_before
            await received_once(peer, note_uri)
        finally:
            await runner.cleanup()


async def test_restore_never_overwrites_and_refuses_what_is_not_a_backup(
    make_node: MakeNode, tmp_path: Path
) -> None:
    rn = await make_node("lome", run_workers=False)
    archive = tmp_path / "lome.tar"
    code, _, err = await cli("backup", "--data", str(rn.config.data_dir), "--out", str(archive))
    assert code == 0, err
    code, _, err = await cli("backup", "--data", str(rn.config.data_dir), "--out", str(archive))
    assert code == 1 and "exists" in err

    before = sorted(p.name for p in rn.config.data_dir.iterdir())
    code, _, err = await cli("restore", "--data", str(rn.config.data_dir), str(archive))
    assert code == 1 and "already holds a node" in err
    assert sorted(p.name for p in rn.config.data_dir.iterdir()) == before

    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar archive at all")
    target = tmp_path / "new"
    code, _, err = await cli("restore", "--data", str(target), str(junk))
    assert code == 1 and "not a coopnet backup" in err and "Traceback" not in err
    assert not (target / "coopnet.toml").exists()


@pytest.mark.sqlite_only  # the copy goes from SQLite to the test PostgreSQL server
async def test_db_copy_moves_a_running_network_to_postgresql(
    make_node: MakeNode, tmp_path: Path
) -> None:
    async with MastodonLikePeer() as peer:
        rn, note_uri = await queued_node(make_node, peer)
        data = rn.config.data_dir
        key_before = rn.node.signer.private_key_pem
        await rn.runner.cleanup()  # stop the node first, as the command says
        target = await (await server()).new_database(None)
        code, out, err = await cli("db", "copy", "--data", str(data), "--to", target)
        assert code == 0, err
        assert "copied" in out and "now uses it" in out
        assert load_config(data).database_url.startswith("postgresql+asyncpg://")
        runner, node = await serve_again(data)
        try:
            assert not node.is_sqlite and node.signer.private_key_pem == key_before
            await received_once(peer, note_uri)
            # Ids continue after the copied rows: a new post gets its own delivery.
            await post_note(node, "Après le déménagement", by=OPERATOR)
            async with node.sessions() as session:
                rows = (await session.execute(select(func.count()).select_from(Delivery))).scalar()
            assert rows == 3
        finally:
            await runner.cleanup()
        # A second copy into the same database is refused: it holds a node now.
        code, _, err = await cli("db", "copy", "--data", str(data), "--to", target)
        assert code == 1 and "the node's own database" in err


@pytest.mark.postgresql_only
async def test_the_node_rides_out_a_database_restart(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    """PostgreSQL restarted under a running node: pooled connections are dead.

    No request may get a 500 for it: at most the first ones meet the dead
    connections and get a 503 with Retry-After (a sender retries), and the
    node answers normally again without being restarted itself.
    """
    from node.actions import init_node
    from tests.pg import Server

    pg = Server()
    pg.start()
    try:
        await pg.admin("CREATE DATABASE restarted")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = await init_node(
            tmp_path / "n", f"http://127.0.0.1:{port}", "lome", "section",
            database=pg.url("restarted"),
        )  # fmt: skip
        runner = make_runner(create_app(config, run_workers=False), config)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        url = f"http://127.0.0.1:{port}/users/lome/outbox"
        headers = {"Accept": "application/activity+json"}
        try:
            # Several requests at once, so that several pooled connections exist.
            first = await asyncio.gather(*(http.get(url, headers=headers) for _ in range(5)))
            assert [r.status for r in first] == [200] * 5
            await asyncio.to_thread(
                pg._run, str(pg.bin / "pg_ctl"), "-D", str(pg.data), "-l",
                str(pg.root / "log"), "-m", "fast", "-w", "restart",
            )  # fmt: skip
            statuses = []
            for _ in range(12):
                async with http.get(url, headers=headers) as resp:
                    statuses.append(resp.status)
                    if resp.status == 503:
                        assert resp.headers["Retry-After"] == "5"
                        assert "retry" in (await resp.json())["error"]
            assert 500 not in statuses
            assert set(statuses) <= {200, 503}
            assert statuses[-5:] == [200] * 5, statuses
        finally:
            await runner.cleanup()
    finally:
        pg.stop()
