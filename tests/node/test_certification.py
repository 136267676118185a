"""The certification chain across real nodes: seat → section → mediator.

Checked the way a stranger would: ``coopnet verify`` run against a node's
data directory fetches every link over HTTP and checks its proof.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from federation.integrity import add_proof
from models.accounts import OPERATOR
from models.actors import get_local_actor
from models.attestations import Attestation, HeldAttestation, Kind, issue
from models.inbox import InboxItem
from models.mediators import Profile
from node.actions import follow, list_following
from node.cli import main
from node.config import load_config
from node.content import mediator_add
from node.context import Node
from tests import dbtools
from tests.conftest import MakeNode, RunningNode, bound_socket
from tests.procs import free_port


async def until(check: Callable[[], Awaitable[bool]], what: str, limit: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def network(make_node: MakeNode) -> tuple[RunningNode, RunningNode, str]:
    """A seat that authorised a section, and a certified mediator of that section."""
    seat = await make_node("siege", "seat")
    lome = await make_node("lome", "section", network_seat=seat.actor_id)
    await follow(lome.node, seat.acct, by=OPERATOR)

    async def accepted() -> bool:
        return any(r.state == "accepted" for r in await list_following(lome.node, by=OPERATOR))

    await until(accepted, "the section following the seat")
    return seat, lome, f"{lome.url}/users/kossi"


async def authorise_and_certify(
    capsys: pytest.CaptureFixture[str], seat: RunningNode, lome: RunningNode
) -> None:
    code, out, err = await cli(capsys, "authorize", "--data", str(seat.config.data_dir), lome.acct)
    assert code == 0, err
    assert out.startswith(f"authorised {lome.actor_id}")

    async def held() -> bool:
        return await lome.count(HeldAttestation, HeldAttestation.revoked_at.is_(None)) == 1

    await until(held, "the section receiving its authorisation")
    await mediator_add(lome.node, "kossi", Profile(name="Kossi", skills=["sites web"]), by=OPERATOR)
    code, out, err = await cli(capsys, "certify", "--data", str(lome.config.data_dir), "kossi")
    assert code == 0, err


async def test_chain_verified_then_revoked(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    seat, lome, kossi = await network(make_node)
    await authorise_and_certify(capsys, seat, lome)

    # Verified from the seat's node (its own trust anchor).
    code, out, err = await cli(capsys, "verify", "--data", str(seat.config.data_dir), kossi)
    assert code == 0, out + err
    assert f"{kossi} certified by {lome.actor_id}" in out
    assert f"{lome.actor_id} authorised by {seat.actor_id}" in out
    assert out.strip().endswith("chain verified")

    # The section's actor links its authorisation; the mediator its certification.
    async with lome.node.sessions() as session:
        row = (await session.execute(select(Attestation))).scalar_one()
    assert row.kind == Kind.CERTIFICATION and row.subject_uri == kossi
    page = await mediator_page(kossi)
    assert "Certifié par la section" in page and "la section est autorisée par le siège" in page

    # Revoking the certification: the chain no longer holds, and says why.
    code, out, err = await cli(capsys, "revoke", "--data", str(lome.config.data_dir), "kossi")
    assert code == 0, err
    code, out, _ = await cli(capsys, "verify", "--data", str(seat.config.data_dir), kossi)
    assert code == 1
    assert "NOT VERIFIED" in out and f"certification {row.uri} has been revoked" in out
    page = await mediator_page(kossi)
    assert "Certification révoquée" in page and "Certifié par la section" not in page


async def mediator_page(url: str) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.get(url, headers={"Accept": "text/html"}) as resp,
    ):
        assert resp.status == 200
        return await resp.text()


async def test_revoked_authorisation_breaks_the_chain(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    seat, lome, kossi = await network(make_node)
    await authorise_and_certify(capsys, seat, lome)
    async with seat.node.sessions() as session:
        auth_uri = (await session.execute(select(Attestation.uri))).scalar_one()
    code, _, err = await cli(capsys, "revoke", "--data", str(seat.config.data_dir), auth_uri)
    assert code == 0, err

    async def section_told() -> bool:
        return await lome.count(HeldAttestation, HeldAttestation.revoked_at.is_not(None)) == 1

    await until(section_told, "the Remove reaching the section")
    code, out, _ = await cli(capsys, "verify", "--data", str(seat.config.data_dir), kossi)
    assert code == 1
    assert "NOT VERIFIED" in out and f"authorisation {auth_uri} has been revoked" in out


async def test_tampered_attestation_is_refused(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    seat, lome, kossi = await network(make_node)
    await authorise_and_certify(capsys, seat, lome)
    async with lome.node.sessions() as session, session.begin():
        row = (await session.execute(select(Attestation))).scalar_one()
        doc = json.loads(row.body)
        doc["published"] = "2004-01-01T00:00:00Z"  # body changed after signing
        row.body = json.dumps(doc)
    code, out, _ = await cli(capsys, "verify", "--data", str(seat.config.data_dir), kossi)
    assert code == 1
    assert "proof does not verify" in out


async def test_attestation_signed_by_another_section_is_refused(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    seat, lome, kossi = await network(make_node)
    await authorise_and_certify(capsys, seat, lome)
    other = await make_node("marseille", "section")
    async with other.node.sessions() as session:
        marseille = await get_local_actor(session, "marseille")
    assert marseille is not None and marseille.integrity_key_pem
    # Lome's certification re-signed with Marseille's key, still claiming Lome as issuer.
    async with lome.node.sessions() as session, session.begin():
        row = (await session.execute(select(Attestation))).scalar_one()
        doc = {k: v for k, v in json.loads(row.body).items() if k != "proof"}
        row.body = json.dumps(
            add_proof(
                doc, marseille.integrity_key_pem, f"{other.actor_id}#ed25519-key", datetime.now(UTC)
            )
        )
    code, out, _ = await cli(capsys, "verify", "--data", str(seat.config.data_dir), kossi)
    assert code == 1
    assert f"which is not a key of {lome.actor_id}" in out


async def test_section_cannot_certify_another_servers_mediator(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mediator hosted elsewhere, pointing at a real, well-signed certification by
    a section that is not its own: refused because of where the mediator lives."""
    seat, lome, _ = await network(make_node)
    await authorise_and_certify(capsys, seat, lome)
    sock = bound_socket()
    host = f"127.0.0.1:{sock.getsockname()[1]}"
    fake_id = f"http://{host}/users/eve"
    async with lome.node.sessions() as session, session.begin():
        section = await get_local_actor(session, "lome")
        assert section is not None
        att = await issue(session, lome.node.urls, section, Kind.CERTIFICATION, fake_id)

    async def actor(_: web.Request) -> web.Response:
        doc = {
            "@context": ["https://www.w3.org/ns/activitystreams"],
            "id": fake_id,
            "type": "Person",
            "preferredUsername": "eve",
            "inbox": f"{fake_id}/inbox",
            "certification": att.uri,
        }
        return web.json_response(doc, content_type="application/activity+json")

    app = web.Application()
    app.router.add_get("/users/eve", actor)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        code, out, _ = await cli(capsys, "verify", "--data", str(seat.config.data_dir), fake_id)
    finally:
        await runner.cleanup()
    assert code == 1
    assert "not one of its own mediators" in out


async def test_only_the_seat_authorises_and_only_sections_certify(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    seat, lome, _ = await network(make_node)
    code, _, err = await cli(capsys, "authorize", "--data", str(lome.config.data_dir), seat.acct)
    assert code == 1 and "only the seat" in err and "Traceback" not in err
    code, _, err = await cli(capsys, "certify", "--data", str(seat.config.data_dir), "kossi")
    assert code == 1 and "only a section" in err
    code, _, err = await cli(capsys, "certify", "--data", str(lome.config.data_dir), "nobody")
    assert code == 1 and "no mediator 'nobody'" in err
    code, _, err = await cli(capsys, "revoke", "--data", str(lome.config.data_dir), "nobody")
    assert code == 1 and "no live attestation" in err
    assert await lome.count(Attestation) == 0 and await seat.count(Attestation) == 0


async def test_init_seat_option(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """init --seat resolves an account to the seat's actor URL and keeps it as the anchor;
    a seat cannot have one, and a seat that cannot be resolved stops init before it starts."""
    seat = await make_node("siege", "seat")
    url = f"http://127.0.0.1:{free_port()}"
    data = tmp_path / "lome"
    code, out, err = await cli(
        capsys, "init", "--data", str(data), "--url", url, "--name", "lome", "--role",
        "section", "--seat", seat.acct, *await dbtools.ainit_database_args(),
    )  # fmt: skip
    assert code == 0, err
    assert f"trusting the seat {seat.actor_id}" in out
    assert load_config(data).network_seat == seat.actor_id

    code, _, err = await cli(
        capsys, "init", "--data", str(tmp_path / "s2"), "--url", url, "--name", "s2",
        "--role", "seat", "--seat", seat.acct, *await dbtools.ainit_database_args(),
    )  # fmt: skip
    assert code == 1 and "the seat is its own trust anchor" in err
    assert not (tmp_path / "s2").exists()

    code, _, err = await cli(
        capsys, "init", "--data", str(tmp_path / "s3"), "--url", url, "--name", "s3",
        "--role", "section", "--seat", f"nobody@{seat.url.split('://', 1)[1]}",
        *await dbtools.ainit_database_args(),
    )  # fmt: skip
    assert code == 1 and "cannot resolve the seat" in err and "Traceback" not in err
    assert not (tmp_path / "s3").exists()

    code, _, err = await cli(
        capsys, "init", "--data", str(tmp_path / "s4"), "--url", url, "--name", "s4",
        "--role", "section", *await dbtools.ainit_database_args(),
    )  # fmt: skip
    assert code == 0 and "no seat given" in err


async def test_section_that_sets_its_seat_later_gets_authorised_again(
    make_node: MakeNode, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a seat configured, the seat's Add is ignored (nothing can be checked); once
    the section trusts the seat, authorising again re-announces the same attestation."""
    seat = await make_node("siege", "seat")
    lome = await make_node("lome", "section")
    code, out, err = await cli(capsys, "authorize", "--data", str(seat.config.data_dir), lome.acct)
    assert code == 0, err

    async def add_seen() -> bool:
        async with lome.node.sessions() as session:
            rows = (await session.execute(select(InboxItem).where(InboxItem.type == "Add"))).all()
        return bool(rows) and all(r[0].state == "done" for r in rows)

    await until(add_seen, "the section processing the seat's Add")
    assert await lome.count(HeldAttestation) == 0
    lome.node.config.network_seat = seat.actor_id  # what editing coopnet.toml and restarting do
    code, out2, err = await cli(capsys, "authorize", "--data", str(seat.config.data_dir), lome.acct)
    assert code == 0, err
    assert out2 == out  # the same attestation, announced again

    async def held() -> bool:
        return await lome.count(HeldAttestation) == 1

    await until(held, "the section holding its authorisation")


async def test_serving_makes_a_loose_data_directory_private(
    make_node: MakeNode, caplog: pytest.LogCaptureFixture
) -> None:
    """A data directory made by an older version (0755, config and database 0644) is made
    private when the node opens it, and the log says so."""
    rn = await make_node("lome", "section")
    data = rn.config.data_dir
    data.chmod(0o755)
    files = [p for p in (data / "coopnet.toml", data / "coopnet.db") if p.exists()]
    assert len(files) == (2 if rn.node.is_sqlite else 1)
    for path in files:
        path.chmod(0o644)
    async with await Node.open(rn.config):
        pass
    assert data.stat().st_mode & 0o777 == 0o700
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path
    assert "was readable by others" in caplog.text
