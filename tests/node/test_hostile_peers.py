"""Hostile peers: real servers on loopback that attack the node the way a fediverse server can.

Each attacker is a real aiohttp server (its own ``web.AppRunner`` on a loopback port) with an
actor of its own, whose key the test generates; the node is driven over HTTP and the CLI only,
and the database is read (through the models) only for what HTTP cannot show. One test (or a
few) per finding, named ``test_f<N>_...``; each docstring quotes its finding.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import psutil
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from sqlalchemy import select

from federation.http import address_allowed
from federation.integrity import add_proof, generate_ed25519_private_pem, multikey
from models.accounts import OPERATOR
from models.actors import LocalActor
from models.attestation_checks import AttestationCheck
from models.attestations import HeldAttestation
from models.follows import Follower, Following, FollowingState
from models.inbox import InboxItem, InboxState
from models.outbox import Activity, Delivery
from models.posts import RemoteObject
from models.sel.accounts import Account
from models.sel.exchanges import Exchange
from node import certification, sel
from node.actions import follow, init_node
from node.cli import main as cli_main
from tests import dbtools
from tests.allies import ally_rows, ally_with_fake
from tests.conftest import MakeNode, RunningNode
from tests.peers.mastodon import AS_CONTEXT, PUBLIC, MastodonLikePeer, sign_cavage
from tests.procs import ROOT, coopnet, free_port

AP = "application/activity+json"
MIB = 1024 * 1024

# ------------------------------------------------------------------------------ helpers


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ap_body(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def ap_response(doc: Any, status: int = 200) -> web.Response:
    return web.Response(body=ap_body(doc), status=status, content_type=AP)


ActorHandler = Callable[["HostileActor", web.Request], Awaitable[web.StreamResponse]]


class HostileServer:
    """A real aiohttp server on a loopback address playing a hostile fediverse server.

    Handlers that stall wait on ``release``; ``close`` sets it first, so teardown is quick.
    """

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.app = web.Application(client_max_size=4 * MIB, middlewares=[self._record])
        self.release = asyncio.Event()
        #: (method, path_qs) of every request, in arrival order.
        self.requests: list[tuple[str, str]] = []
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        return await handler(request)

    def gets(self, path: str) -> int:
        return sum(1 for m, p in self.requests if m == "GET" and p.split("?")[0] == path)

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        await web.TCPSite(runner, self.host, 0).start()
        self._runner = runner
        self.base_url = f"http://{self.host}:{runner.addresses[0][1]}"

    async def close(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


class HostileActor:
    """One actor (``Person``) on its own hostile server, with a key the test generated.

    ``serve_actor`` replaces how its actor document is served, ``inbox_answer`` how its inbox
    answers; ``doc_extra`` is merged into the actor document (may override ``inbox``...).
    ``received`` holds the JSON activities POSTed to its inboxes.
    """

    def __init__(
        self,
        username: str = "mallory",
        *,
        host: str = "127.0.0.1",
        doc_extra: Callable[[HostileActor], dict[str, Any]] | None = None,
        serve_actor: ActorHandler | None = None,
        inbox_answer: ActorHandler | None = None,
    ) -> None:
        self.username = username
        self.server = HostileServer(host)
        self.doc_extra = doc_extra
        self.serve_actor = serve_actor
        self.inbox_answer = inbox_answer
        self.received: list[dict[str, Any]] = []
        self.key: rsa.RSAPrivateKey | None = None

    async def __aenter__(self) -> HostileActor:
        self.key = await asyncio.to_thread(new_key)
        self.server.app.router.add_get("/users/{name}", self._actor)
        self.server.app.router.add_post("/users/{name}/inbox", self._inbox)
        self.server.app.router.add_post("/inbox", self._inbox)
        await self.server.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def actor_id(self) -> str:
        return f"{self.base_url}/users/{self.username}"

    @property
    def actor_path(self) -> str:
        return f"/users/{self.username}"

    @property
    def key_id(self) -> str:
        return f"{self.actor_id}#main-key"

    def actor_doc(self) -> dict[str, Any]:
        assert self.key is not None
        doc: dict[str, Any] = {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": self.actor_id,
            "type": "Person",
            "preferredUsername": self.username,
            "name": self.username.capitalize(),
            "inbox": f"{self.actor_id}/inbox",
            "outbox": f"{self.actor_id}/outbox",
            "followers": f"{self.actor_id}/followers",
            "publicKey": {
                "id": self.key_id,
                "owner": self.actor_id,
                "publicKeyPem": public_pem(self.key),
            },
        }
        if self.doc_extra is not None:
            doc.update(self.doc_extra(self))
        return doc

    async def _actor(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["name"] != self.username:
            return web.json_response({"error": "no such actor"}, status=404)
        if self.serve_actor is not None:
            return await self.serve_actor(self, request)
        return ap_response(self.actor_doc())

    async def _inbox(self, request: web.Request) -> web.StreamResponse:
        try:
            self.received.append(json.loads(await request.read()))
        except ValueError:
            self.received.append({})
        if self.inbox_answer is not None:
            return await self.inbox_answer(self, request)
        return web.Response(status=202)

    def new_id(self, kind: str = "activities") -> str:
        return f"{self.base_url}/{kind}/{uuid.uuid4()}"

    def follow_of(self, rn: RunningNode) -> dict[str, Any]:
        return {
            "@context": AS_CONTEXT,
            "id": f"{self.actor_id}#follows/{uuid.uuid4()}",
            "type": "Follow",
            "actor": self.actor_id,
            "object": rn.actor_id,
        }

    def signed(self, method: str, url: str, body: bytes | None) -> dict[str, str]:
        assert self.key is not None
        return sign_cavage(method, url, self.key_id, self.key, body)

    async def post(
        self, http: aiohttp.ClientSession, url: str, activity: Mapping[str, Any]
    ) -> tuple[int, Any]:
        body = ap_body(activity)
        return await send(http, "POST", url, body, self.signed("POST", url, body))


async def send(
    http: aiohttp.ClientSession,
    method: str,
    url: str,
    body: bytes | None,
    headers: Mapping[str, str],
) -> tuple[int, Any]:
    """One request with exactly these headers: (status, parsed JSON or raw text)."""
    skip = () if any(k.lower() == "content-type" for k in headers) else ("Content-Type",)
    async with http.request(
        method,
        url,
        data=body,
        headers=dict(headers),
        skip_auto_headers=skip,
        allow_redirects=False,
    ) as resp:
        text = await resp.text(errors="replace")
    try:
        return resp.status, json.loads(text)
    except ValueError:
        return resp.status, text


def sign_cavage_covering(
    url: str,
    key_id: str,
    key: rsa.RSAPrivateKey,
    body: bytes,
    covered: list[str],
    *,
    content_type: str = AP,
) -> dict[str, str]:
    """Draft-cavage headers for a POST of ``body`` to ``url`` whose signature covers exactly
    ``covered`` (``sign_cavage`` always signs Mastodon's full set)."""
    parts = url.split("://", 1)[1]
    host, _, path = parts.partition("/")
    headers = {
        "Host": host,
        "Date": datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        "Digest": "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode(),
        "Content-Type": content_type,
    }
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): post /{path}")
        else:
            lines.append(f"{name}: {headers[name.title()]}")
    signature = key.sign("\n".join(lines).encode(), padding.PKCS1v15(), hashes.SHA256())
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(covered)}",'
        f'signature="{base64.b64encode(signature).decode()}"'
    )
    return headers


def with_garbage_signature(headers: dict[str, str]) -> dict[str, str]:
    """Well-formed cavage headers whose signature bytes are random."""
    garbage = base64.b64encode(os.urandom(256)).decode()
    out = dict(headers)
    out["Signature"] = re.sub(r'signature="[^"]*"', f'signature="{garbage}"', out["Signature"])
    return out


async def until(
    check: Callable[[], Awaitable[bool]],
    what: str,
    limit: float = 10.0,
    describe: Callable[[], Awaitable[str]] | None = None,
) -> None:
    """Poll ``check`` until true; fail after ``limit`` seconds saying what did not happen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while not await check():
        if loop.time() >= deadline:
            extra = f"\n{await describe()}" if describe is not None else ""
            raise AssertionError(f"timed out after {limit}s waiting for {what}{extra}")
        await asyncio.sleep(0.02)


async def inbox_item(rn: RunningNode, activity_id: str) -> InboxItem | None:
    async with rn.node.sessions() as session:
        return (
            await session.execute(select(InboxItem).where(InboxItem.activity_uri == activity_id))
        ).scalar_one_or_none()


async def wait_processed(rn: RunningNode, activity_id: str, limit: float = 10.0) -> InboxItem:
    """The stored inbox item of ``activity_id``, once the inbox worker has processed it."""

    async def done() -> bool:
        item = await inbox_item(rn, activity_id)
        return item is not None and item.state != InboxState.PENDING

    async def items() -> str:
        async with rn.node.sessions() as session:
            rows = (await session.execute(select(InboxItem))).scalars().all()
        return "inbox items: " + repr([(i.activity_uri, i.type, i.state, i.error) for i in rows])

    await until(done, f"the inbox item {activity_id} to be processed", limit, items)
    item = await inbox_item(rn, activity_id)
    assert item is not None
    return item


def control_chars(text: str) -> list[str]:
    """C0 controls but newline and tab, DEL, C1 controls (and raw bytes 0x80-0x9f)."""
    bad = set()
    for ch in text:
        o = ord(ch)
        if (o < 0x20 and ch not in "\n\t") or o == 0x7F or 0x80 <= o <= 0x9F:
            bad.add(ch)
        elif 0xDC80 <= o <= 0xDC9F:  # an undecodable raw byte in 0x80-0x9f
            bad.add(ch)
    return sorted(repr(c) for c in bad)


run_cli = coopnet  # ``coopnet ARGS`` as a subprocess (tests/procs.py)


def data_dir(rn: RunningNode) -> Path:
    return rn.config.data_dir


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as session:
        yield session


@pytest.fixture
async def peer() -> AsyncIterator[MastodonLikePeer]:
    async with MastodonLikePeer(usernames=("alice", "bob")) as p:
        yield p


# ------------------------------------------- F1, F2: a certification chain no outsider can fake


class FakeNetwork:
    """A hostile server hosting a whole fake chain: a 'seat', a 'section' it authorised and
    a 'mediator' the section certified, each with its own Ed25519 key and valid proofs.
    Everything is well-formed; only the trust is missing."""

    def __init__(self) -> None:
        self.server = HostileServer()
        self.docs: dict[str, dict[str, Any]] = {}
        self.rsa = new_key()

    def url(self, path: str) -> str:
        return f"{self.server.base_url}{path}"

    def actor(self, name: str, type_: str, role: str | None, links: dict[str, str]) -> str:
        ident = self.url(f"/users/{name}")
        key = generate_ed25519_private_pem()
        doc: dict[str, Any] = {
            "@context": [AS_CONTEXT, "https://w3id.org/security/v1"],
            "id": ident,
            "type": type_,
            "preferredUsername": name,
            "inbox": f"{ident}/inbox",
            "publicKey": {
                "id": f"{ident}#main-key",
                "owner": ident,
                "publicKeyPem": public_pem(self.rsa),
            },
            "assertionMethod": [multikey(ident, f"{ident}#ed25519-key", key)],
            **links,
        }
        if role:
            doc["role"] = role
        self.docs[f"/users/{name}"] = doc
        self.docs[f"/keys/{name}"] = {"pem": key}
        return ident

    def attest(self, name: str, type_: str, issuer: str, subject: str, key_of: str) -> str:
        ident = self.url(f"/attestations/{name}")
        doc = {
            "@context": [AS_CONTEXT, "https://w3id.org/security/data-integrity/v2"],
            "id": ident,
            "type": type_,
            "attributedTo": issuer,
            "object": subject,
            "published": iso(datetime.now(UTC)),
        }
        pem = self.docs[f"/keys/{key_of}"]["pem"]
        self.docs[f"/attestations/{name}"] = add_proof(
            doc, pem, f"{issuer}#ed25519-key", datetime.now(UTC)
        )
        return ident

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        doc = self.docs.get(request.path)
        if doc is None or request.path.startswith("/keys/"):
            return web.json_response({"error": "not found"}, status=404)
        return ap_response(doc)

    async def __aenter__(self) -> FakeNetwork:
        self.server.app.router.add_get("/{tail:.*}", self._serve)
        await self.server.start()
        seat = self.url("/users/seat")
        section = self.url("/users/section")
        mediator = self.url("/users/mediator")
        self.actor("seat", "Organization", "seat", {})
        auth = self.attest("auth", "SectionAuthorization", seat, section, "seat")
        self.actor("section", "Organization", "section", {"authorization": auth})
        cert = self.attest("cert", "MediatorCertification", section, mediator, "section")
        self.actor("mediator", "Person", None, {"certification": cert})
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.server.close()


async def verify_cli(rn: RunningNode, target: str, *extra: str) -> tuple[int, str]:
    code, out, err = await asyncio.to_thread(
        _main_captured, ["verify", "--data", str(rn.config.data_dir), target, *extra]
    )
    return code, out + err


def _main_captured(argv: list[str]) -> tuple[int, str, str]:
    """``coopnet`` in-process (its own event loop, in a thread), output captured."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(argv)
    return code, out.getvalue(), err.getvalue()


async def authorised_section(make_node: MakeNode) -> tuple[RunningNode, RunningNode, str]:
    """A seat, and a section that trusts it and holds its (genuine) authorisation."""
    seat = await make_node("siege", "seat")
    lome = await make_node("lome", "section", network_seat=seat.actor_id)
    row = await certification.authorize(seat.node, lome.acct, by=OPERATOR)

    async def linked() -> bool:
        return (await actor_json(lome)).get("authorization") == row.uri

    await until(linked, "the section linking the seat's authorisation")
    return seat, lome, row.uri


async def actor_json(rn: RunningNode) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(rn.actor_id, headers={"Accept": AP}) as resp,
    ):
        doc: dict[str, Any] = await resp.json(content_type=None)
        return doc


async def actor_page(rn: RunningNode) -> str:
    async with (
        aiohttp.ClientSession() as http,
        http.get(rn.actor_id, headers={"Accept": "text/html"}) as resp,
    ):
        return await resp.text()


def forged_add(attacker: HostileActor, section: RunningNode) -> tuple[dict[str, Any], str]:
    att = attacker.new_id("attestations")
    return {
        "@context": AS_CONTEXT,
        "id": attacker.new_id(),
        "type": "Add",
        "actor": attacker.actor_id,
        "object": {
            "id": att,
            "type": "SectionAuthorization",
            "attributedTo": attacker.actor_id,
            "object": section.actor_id,
            "published": iso(datetime.now(UTC)),
        },
        "target": f"{attacker.actor_id}/authorized-sections",
    }, att


async def test_f1_stranger_cannot_rewrite_a_sections_authorisation(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F1: anyone can rewrite a section's authorisation: an Add of a SectionAuthorization
    attributed to itself becomes what the section's actor links and its page shows."""
    seat, lome, genuine = await authorised_section(make_node)
    async with HostileActor() as mallory:
        add, forged = forged_add(mallory, lome)
        status, answer = await mallory.post(http, f"{lome.url}/inbox", add)
        assert status == 202, answer
        item = await wait_processed(lome, add["id"])
        assert item.state == InboxState.DONE and (item.error or "").startswith("ignored"), (
            item.error
        )
        # A stranger's Add is not even fetched: it costs the node nothing.
        assert mallory.server.gets(urlsplit(forged).path) == 0
    assert (await actor_json(lome)).get("authorization") == genuine
    page = await actor_page(lome)
    assert forged not in page and genuine in page
    async with lome.node.sessions() as session:
        held = (await session.execute(select(HeldAttestation.uri))).scalars().all()
    assert list(held) == [genuine]
    code, out = await verify_cli(seat, lome.actor_id)
    assert code == 0 and out.strip().endswith("chain verified"), out


async def test_f1_stranger_cannot_make_a_section_look_authorised(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F1: the same path makes a section that was never authorised look authorised."""
    seat = await make_node("siege", "seat")
    lome = await make_node("lome", "section", network_seat=seat.actor_id)
    async with HostileActor() as mallory:
        add, forged = forged_add(mallory, lome)
        status, answer = await mallory.post(http, f"{lome.url}/inbox", add)
        assert status == 202, answer
        await wait_processed(lome, add["id"])
    assert "authorization" not in await actor_json(lome)
    page = await actor_page(lome)
    assert "Autorisée par le siège" not in page and forged not in page
    assert await lome.count(HeldAttestation) == 0


async def test_f1_even_the_seats_add_is_only_a_notification(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F1: an attestation is held only after it was fetched from its issuer and its proof
    checked; an Add signed by the seat itself, naming a document the seat never issued,
    leaves the section unauthorised."""
    seat = await make_node("siege", "seat")
    lome = await make_node("lome", "section", network_seat=seat.actor_id)
    async with seat.node.sessions() as session:
        pem = (
            await session.execute(select(LocalActor.private_key_pem).where(LocalActor.is_node))
        ).scalar_one()
    seat_key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(seat_key, rsa.RSAPrivateKey)
    never_issued = f"{seat.url}/attestations/{uuid.uuid4()}"
    add = {
        "@context": AS_CONTEXT,
        "id": f"{seat.url}/activities/{uuid.uuid4()}",
        "type": "Add",
        "actor": seat.actor_id,
        "object": {
            "id": never_issued,
            "type": "SectionAuthorization",
            "attributedTo": seat.actor_id,
            "object": lome.actor_id,
        },
    }
    url = f"{lome.url}/inbox"
    body = ap_body(add)
    status, answer = await send(
        http,
        "POST",
        url,
        body,
        sign_cavage("POST", url, f"{seat.actor_id}#main-key", seat_key, body),
    )
    assert status == 202, answer

    async def checked() -> bool:
        async with lome.node.sessions() as session:
            row = (await session.execute(select(AttestationCheck))).scalar_one_or_none()
        return row is not None and row.state != "pending"

    await until(checked, "the section checking what the seat announced")
    async with lome.node.sessions() as session:
        row = (await session.execute(select(AttestationCheck))).scalar_one()
    assert row.state == "refused" and "404" in (row.reason or ""), (row.state, row.reason)
    assert await lome.count(HeldAttestation) == 0
    assert "authorization" not in await actor_json(lome)


async def test_f2_verify_needs_a_trust_anchor(make_node: MakeNode) -> None:
    """F2: with [network] seat empty (what init leaves), a fully forged three-link chain with
    valid Ed25519 proofs verifies."""
    lome = await make_node("lome", "section")  # no seat configured
    async with FakeNetwork() as fake:
        code, out = await verify_cli(lome, fake.url("/users/mediator"))
    assert code == 1, out
    assert "chain verified" not in out and "no trust anchor configured" in out, out


async def test_f2_an_actor_calling_itself_the_seat_is_not_trusted(make_node: MakeNode) -> None:
    """F2: coopnet verify accepts any actor that calls itself the seat (role: "seat"), even
    when [network] seat names another actor."""
    seat, lome, _ = await authorised_section(make_node)
    async with FakeNetwork() as fake:
        for target in ("/users/seat", "/users/section", "/users/mediator"):
            code, out = await verify_cli(lome, fake.url(target))
            assert code == 1 and "chain verified" not in out, (target, out)
        _, out = await verify_cli(lome, fake.url("/users/section"))
        assert f"this network's seat is {seat.actor_id}" in out, out
        # The anchor given on the command line wins over the configured one: then the
        # fake chain holds, which shows the refusals above came from the anchor alone.
        code, out = await verify_cli(
            lome, fake.url("/users/mediator"), "--seat", fake.url("/users/seat")
        )
        assert code == 0 and out.strip().endswith("chain verified"), out
    # The genuine chain still verifies from the section, anchored in its configured seat.
    code, out = await verify_cli(lome, lome.actor_id)
    assert code == 0 and out.strip().endswith("chain verified"), out


# ------------------------------------------------------------------ F3: documents cut short


async def _actor_in_two_writes(actor: HostileActor, request: web.Request) -> web.StreamResponse:
    body = ap_body(actor.actor_doc())
    resp = web.StreamResponse(headers={"Content-Type": AP})
    resp.content_length = len(body)
    await resp.prepare(request)
    half = len(body) // 2
    await resp.write(body[:half])
    await asyncio.sleep(0.2)
    try:
        await resp.write(body[half:])
        await resp.write_eof()
    except ConnectionError:
        pass  # the node gave up after the first half (today's behaviour)
    return resp


def _padded(actor: HostileActor) -> dict[str, Any]:
    return {"summary": "<p>" + "a" * (300 * 1024) + "</p>"}


async def _follow_is_processed(rn: RunningNode, actor: HostileActor) -> None:
    async def followed() -> bool:
        return bool(actor.received) or await rn.count(Follower) == 1

    await until(followed, "the node to process the Follow (Accept sent or Follower stored)")


async def test_f3_actor_document_in_two_writes_is_read_whole(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F3: the signed client reads resp.content.read(MAX+1), which returns only what is
    buffered: an actor document sent in two writes 200 ms apart is cut short."""
    rn = await make_node()
    async with HostileActor(serve_actor=_actor_in_two_writes) as actor:
        status, body = await actor.post(http, f"{rn.url}/inbox", actor.follow_of(rn))
        assert status == 202, f"signed Follow from an actor served in two writes: {status} {body}"
        await _follow_is_processed(rn, actor)


async def test_f3_large_actor_document_is_read_whole(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F3: the signed client reads resp.content.read(MAX+1), which returns only what is
    buffered: a 300 KB actor document sent in one write is cut short."""
    rn = await make_node()
    async with HostileActor(doc_extra=_padded) as actor:
        assert 290 * 1024 < len(ap_body(actor.actor_doc())) < 1024 * 1024
        status, body = await actor.post(http, f"{rn.url}/inbox", actor.follow_of(rn))
        assert status == 202, f"signed Follow from a 300 KB actor document: {status} {body}"
        await _follow_is_processed(rn, actor)


async def _in_slow_chunks(actor: HostileActor, request: web.Request) -> web.StreamResponse:
    """The (padded) document in 10 chunks 50 ms apart, chunked transfer encoding."""
    body = ap_body(actor.actor_doc())
    resp = web.StreamResponse(headers={"Content-Type": AP})
    resp.enable_chunked_encoding()
    await resp.prepare(request)
    step = len(body) // 10 + 1
    for start in range(0, len(body), step):
        await resp.write(body[start : start + step])
        await asyncio.sleep(0.05)
    await resp.write_eof()
    return resp


async def test_f3_large_actor_document_in_slow_chunks_is_read_whole(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F3: a 300 KB actor document sent in slow chunks is read whole."""
    rn = await make_node()
    async with HostileActor(doc_extra=_padded, serve_actor=_in_slow_chunks) as actor:
        status, body = await actor.post(http, f"{rn.url}/inbox", actor.follow_of(rn))
        assert status == 202, f"a 300 KB actor document in slow chunks: {status} {body}"
        await _follow_is_processed(rn, actor)


async def test_f3_document_over_the_cap_is_refused(
    make_node: MakeNode, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """Whole, but bounded: an actor document over 2 MiB (sent without a length, so only
    reading tells) is refused, and the log says why."""
    rn = await make_node()

    def huge(actor: HostileActor) -> dict[str, Any]:
        return {"summary": "a" * (3 * MIB)}

    async with HostileActor(doc_extra=huge, serve_actor=_in_slow_chunks) as actor:
        status, body = await actor.post(http, f"{rn.url}/inbox", actor.follow_of(rn))
    assert status == 401, body
    assert "larger than 2097152 bytes" in caplog.text


# ------------------------------------------------------------ F4: key fetches exhaust the pool


async def _never_answers(actor: HostileActor, request: web.Request) -> web.StreamResponse:
    await actor.server.release.wait()
    return web.Response(status=503)


async def test_f4_slow_key_server_does_not_starve_other_key_fetches(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    """F4: key fetches exhaust the client pool: ~100 POSTs whose keyId points at a server
    that never answers make a legitimate new actor's key fetch wait for a slot and fail."""
    rn = await make_node()
    hostile = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=30)
    )
    tasks: list[asyncio.Task[tuple[int, Any]]] = []
    # Another loopback address: the slow server is another host than the legitimate peer.
    async with HostileActor(host="127.0.0.2", serve_actor=_never_answers) as slow:
        try:
            url = f"{rn.url}/inbox"
            for _ in range(100):
                body = ap_body(slow.follow_of(rn))
                headers = with_garbage_signature(slow.signed("POST", url, body))
                tasks.append(asyncio.create_task(send(hostile, "POST", url, body, headers)))

            async def hanging() -> bool:
                return slow.server.gets(slow.actor_path) >= 1

            await until(hanging, "the node to start fetching the slow actor", 5.0)
            await asyncio.sleep(0.5)  # the other fetches queue up behind the first ones

            alice = peer.actor_id("alice")
            legit = {
                "@context": AS_CONTEXT,
                "id": f"{alice}#follows/{uuid.uuid4()}",
                "type": "Follow",
                "actor": alice,
                "object": rn.actor_id,
            }
            status = await peer.sign_and_post(url, legit)
            assert status == 202, (
                f"a legitimate new actor's signed Follow got {status} while "
                f"{slow.server.gets(slow.actor_path)} key fetches hang on a slow server: "
                f"{peer.deliveries[-1].error}"
            )
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await hostile.close()


# ---------------------------------------------------------- F5: delivery responses read whole


async def _huge_answer(actor: HostileActor, request: web.Request) -> web.StreamResponse:
    """200, then 400 MiB streamed lazily (1 MiB at a time) until the client goes away."""
    resp = web.StreamResponse(status=200, headers={"Content-Type": "application/octet-stream"})
    resp.content_length = 400 * MIB
    await resp.prepare(request)
    chunk = b"x" * MIB
    try:
        for _ in range(400):
            if actor.server.release.is_set():
                break
            await resp.write(chunk)
    except (ConnectionError, OSError, RuntimeError):
        pass
    return resp


async def test_f5_huge_delivery_response_is_not_read_into_memory(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F5: delivery responses are read whole: an inbox answering the node's Accept with a
    400 MiB body makes the node hold it all in memory."""
    rn = await make_node()
    process = psutil.Process()
    async with HostileActor(inbox_answer=_huge_answer) as actor:
        inbox = actor.actor_doc()["inbox"]
        peak = [0]
        stop = asyncio.Event()

        async def sample() -> None:
            while not stop.is_set():
                peak[0] = max(peak[0], process.memory_info().rss)
                await asyncio.sleep(0.005)

        async def recorded() -> bool:
            async with rn.node.sessions() as session:
                row = (
                    (
                        await session.execute(
                            select(Delivery).where(Delivery.inbox == inbox, Delivery.attempts >= 1)
                        )
                    )
                    .unique()
                    .scalar_one_or_none()
                )
            return row is not None

        before = process.memory_info().rss
        sampler = asyncio.create_task(sample())
        try:
            status, body = await actor.post(http, f"{rn.url}/inbox", actor.follow_of(rn))
            assert status == 202, body
            await until(recorded, "the Accept delivery to be recorded", 25.0)
        finally:
            stop.set()
            await sampler
        after = process.memory_info().rss
        grown = max(peak[0], after) - before
        assert grown < 64 * MIB, (
            f"RSS grew by {grown / MIB:.0f} MiB while delivering to an inbox answering 400 MiB "
            f"(before {before / MIB:.0f} MiB, peak {peak[0] / MIB:.0f}, after {after / MIB:.0f})"
        )


# ---------------------------------------------------------------- F6: pre-claimed activity ids


async def test_f6_activity_id_on_another_origin_is_refused(
    make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    """F6: duplicates are detected by the activity id, with no check that the id is on the
    sender's origin: an attacker can pre-claim a victim's activity id."""
    rn = await make_node()
    victim = peer.actor_id("alice")
    await peer.follow(rn.acct)
    await peer.wait_until(lambda: peer.following["alice"].get(rn.actor_id) == "accepted")
    assert await rn.count(Follower) == 1

    async with HostileActor() as attacker:
        claimed = f"{victim}#delete"  # the id alice's own Delete of her account will have
        forged = {
            "@context": AS_CONTEXT,
            "id": claimed,
            "type": "Delete",
            "actor": attacker.actor_id,
            "object": f"{attacker.actor_id}/statuses/1",
        }
        status, body = await attacker.post(http, f"{rn.url}/inbox", forged)
        stored = await inbox_item(rn, claimed)
        assert status == 400, (
            f"an activity whose id {claimed} is on another origin than its sender got "
            f"{status} {body}; stored from {stored.actor_uri if stored else None}"
        )
        assert stored is None

    await peer.delete_account("alice")

    async def unfollowed() -> bool:
        return await rn.count(Follower) == 0

    await until(unfollowed, "the victim's genuine Delete to remove its follow")
    item = await inbox_item(rn, claimed)
    assert item is not None and item.actor_uri == victim and item.state == InboxState.DONE


# ------------------------------------------------------------ F7: private keys world-readable


def _loose_modes(root: Path) -> list[str]:
    """Every entry under root (and root) with a mode wider than 0700 dirs / 0600 files."""
    problems = []
    mode = stat.S_IMODE(root.stat().st_mode)
    if mode != 0o700:
        problems.append(f"{root}/ is {mode:04o}, not 0700")
    for path in sorted(root.rglob("*")):
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.name.startswith("coopnet.db") and mode != 0o600:
            problems.append(f"{path.name} is {mode:04o}, not 0600")
        elif mode & 0o077:
            problems.append(f"{path.name} is {mode:04o} (group/other bits)")
    return problems


async def test_f7_data_directory_and_database_are_private(tmp_path: Path) -> None:
    """F7: private keys are world-readable: with umask 022, init makes the data directory
    0755 and coopnet.db 0644, and the unit file sets no UMask. (On PostgreSQL the keys are
    in the server, and the directory holds the config, which may hold the database's
    password: it must be as private.)"""
    problems: list[str] = []
    port = free_port()
    data = tmp_path / "node"
    rc, out, err = await run_cli(
        "init",
        "--data",
        str(data),
        "--url",
        f"http://127.0.0.1:{port}",
        "--name",
        "x",
        "--role",
        "section",
        *await dbtools.ainit_database_args(),
        umask=0o022,
    )
    assert rc == 0, err
    problems += [f"after init: {p}" for p in _loose_modes(data)]

    proc = await asyncio.create_subprocess_exec(
        "sh",
        "-c",
        'umask 022; exec "$0" "$@"',
        sys.executable,
        "-m",
        "node",
        "serve",
        "--data",
        str(data),
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:

            async def serving() -> bool:
                try:
                    async with http.get(
                        f"http://127.0.0.1:{port}/users/x", headers={"Accept": AP}
                    ) as resp:
                        return resp.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    return False

            await until(serving, "coopnet serve to answer", 20.0)
        rc, out, err = await run_cli("post", "--data", str(data), "hello", umask=0o022)
        assert rc == 0, err
        files = sorted(p.name for p in data.iterdir())
        problems += [f"while serving ({files}): {p}" for p in _loose_modes(data)]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()

    unit = (ROOT / "deploy" / "coopnet.service").read_text(encoding="utf-8")
    if not re.search(r"(?m)^UMask=0077\s*$", unit):
        problems.append("deploy/coopnet.service has no UMask=0077")
    assert not problems, "\n".join(problems)


# ------------------------------------------------------------------ F8: init deletes a database


@pytest.mark.sqlite_only  # the coopnet.db file; PostgreSQL: test_cli's
# test_init_refuses_a_database_that_holds_a_node
async def test_f8_init_refuses_a_directory_holding_a_database(tmp_path: Path) -> None:
    """F8: init deletes a database: in a directory holding coopnet.db but no coopnet.toml (a
    restore in progress), init silently deletes it and makes new keys."""
    source = tmp_path / "source"
    await init_node(source, f"http://127.0.0.1:{free_port()}", "lome", "section")
    restore = tmp_path / "restore"
    restore.mkdir()
    shutil.copyfile(source / "coopnet.db", restore / "coopnet.db")
    before = (restore / "coopnet.db").read_bytes()

    rc, out, err = await run_cli(
        "init",
        "--data",
        str(restore),
        "--url",
        f"http://127.0.0.1:{free_port()}",
        "--name",
        "lome",
        "--role",
        "section",
    )

    db = restore / "coopnet.db"
    after = db.read_bytes() if db.exists() else None
    assert after == before, (
        f"init in a directory holding a database (no config) exited {rc} and "
        f"{'deleted' if after is None else 'replaced'} coopnet.db; stdout {out!r} stderr {err!r}"
    )
    assert rc != 0, (out, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert "coopnet.db" in lines[0] or "database" in lines[0].lower(), lines[0]


# ------------------------------------------------------------------- F9: SSRF via IPv6 forms

REFUSED = [
    ("64:ff9b::a9fe:a9fe", "nat64-metadata"),
    ("64:ff9b::7f00:1", "nat64-loopback"),
    ("64:ff9b:1::a9fe:a9fe", "nat64-local-use"),
    ("::a9fe:a9fe", "v4-compatible-metadata"),
    ("::7f00:1", "v4-compatible-loopback"),
    ("2002:a9fe:a9fe::1", "6to4-metadata"),
    ("2002:7f00:1::1", "6to4-loopback"),
    ("fec0::1", "site-local"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "teredo"),
    ("127.0.0.1", "v4-loopback"),
    ("10.0.0.1", "v4-private-10"),
    ("172.16.0.1", "v4-private-172"),
    ("192.168.1.1", "v4-private-192"),
    ("169.254.169.254", "v4-link-local-metadata"),
    ("100.64.0.1", "v4-cgnat"),
    ("0.0.0.0", "v4-unspecified"),
    ("224.0.0.1", "v4-multicast"),
    ("255.255.255.255", "v4-broadcast"),
    ("192.0.0.1", "v4-ietf-protocol"),
    ("198.18.0.1", "v4-benchmarking"),
    ("240.0.0.1", "v4-reserved"),
    ("::1", "v6-loopback"),
    ("::", "v6-unspecified"),
    ("::ffff:127.0.0.1", "v4-mapped-loopback"),
    ("::ffff:10.0.0.1", "v4-mapped-private"),
    ("fe80::1", "v6-link-local"),
    ("fc00::1", "v6-ula-fc"),
    ("fd00::1", "v6-ula-fd"),
    ("ff02::1", "v6-multicast"),
    ("100::1", "v6-discard"),
    ("2001:db8::1", "v6-documentation"),
    ("::ffff:0:a9fe:a9fe", "v4-translated"),
    ("192.0.0.9", "v4-ietf-anycast"),
    ("192.88.99.1", "v4-6to4-relay"),
    ("fe80::1%eth0", "v6-link-local-scoped"),
    ("not-an-address", "garbage"),
]
ALLOWED = [
    ("8.8.8.8", "public-v4-google"),
    ("1.1.1.1", "public-v4-cloudflare"),
    ("2606:4700:4700::1111", "public-v6-cloudflare"),
    ("2a00:1450:4007:80c::200e", "public-v6-google"),
    # Embedded forms are judged by the IPv4 address they reach: a node on a
    # DNS64 network reaches IPv4-only servers through NAT64.
    ("64:ff9b::808:808", "nat64-public"),
    ("2002:808:808::1", "6to4-public"),
    ("::ffff:8.8.8.8", "v4-mapped-public"),
]


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [pytest.param(ip, False, id=name) for ip, name in REFUSED]
    + [pytest.param(ip, True, id=name) for ip, name in ALLOWED],
)
def test_f9_address_guard(ip: str, allowed: bool) -> None:
    """F9: SSRF through IPv6 forms embedding IPv4 (NAT64, IPv4-compatible, 6to4, site-local):
    the guard lets them through."""
    assert address_allowed(ip) is allowed, f"address_allowed({ip!r}) should be {allowed}"


# ----------------------------------------------------- F10: signatures replayed from elsewhere


async def test_f10_signature_must_bind_this_host_and_target(
    make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    """F10: signatures replayed from another server: a signature made for other.example, or
    one that covers neither (request-target) nor host, is accepted by the node."""
    rn = await make_node(run_workers=False)
    url = f"{rn.url}/inbox"
    alice = peer.actor_id("alice")
    key = peer.private_key("alice")
    key_id = peer.key_id("alice")

    def activity() -> bytes:
        return ap_body(
            {
                "@context": AS_CONTEXT,
                "id": f"{alice}#tests/{uuid.uuid4()}",
                "type": "Follow",
                "actor": alice,
                "object": rn.actor_id,
            }
        )

    # Control: the same request, properly signed for the node's own host.
    body = activity()
    status, answer = await send(
        http, "POST", url, body, sign_cavage("POST", url, key_id, key, body)
    )
    assert status == 202, answer

    results = {}
    body = activity()
    headers = sign_cavage("POST", "https://other.example/inbox", key_id, key, body)
    assert headers["Host"] == "other.example"
    results["signed for https://other.example/inbox, sent with Host: other.example"] = await send(
        http, "POST", url, body, headers
    )
    body = activity()
    results["covers host date digest, not (request-target)"] = await send(
        http,
        "POST",
        url,
        body,
        sign_cavage_covering(url, key_id, key, body, ["host", "date", "digest"]),
    )
    body = activity()
    results["covers (request-target) date digest, not host"] = await send(
        http,
        "POST",
        url,
        body,
        sign_cavage_covering(url, key_id, key, body, ["(request-target)", "date", "digest"]),
    )
    wrong = {case: got for case, got in results.items() if got[0] != 401}
    assert not wrong, f"accepted instead of 401: {wrong}"


# ----------------------------------------------------------------------------- F11: 500s


async def test_f11_deeply_nested_json_is_a_400(
    make_node: MakeNode, http: aiohttp.ClientSession, peer: MastodonLikePeer
) -> None:
    """F11: 500s: a signed POST whose body nests JSON 5,000 deep answers 500."""
    rn = await make_node(run_workers=False)
    url = f"{rn.url}/inbox"
    alice = peer.actor_id("alice")
    head = {"@context": AS_CONTEXT, "id": f"{alice}#deep", "type": "Create", "actor": alice}
    deep = "[" * 5000 + "]" * 5000
    body = (json.dumps(head)[:-1] + f', "object": {deep}}}').encode()
    headers = sign_cavage("POST", url, peer.key_id("alice"), peer.private_key("alice"), body)
    status, answer = await send(http, "POST", url, body, headers)
    assert status == 400, f"JSON nested 5,000 deep: {status} {answer}"
    assert isinstance(answer, dict) and isinstance(answer.get("error"), str), answer
    assert await rn.count(InboxItem) == 0


async def _gone(actor: HostileActor, request: web.Request) -> web.StreamResponse:
    return web.json_response({"error": "not found"}, status=404)


async def test_f11_clearing_signed_by_a_gone_actor_is_a_401(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F11: 500s: GET /sel/clearing signed with a key whose actor answers 404 answers 500."""
    rn = await make_node(run_workers=False)
    async with HostileActor(serve_actor=_gone) as actor:
        url = f"{rn.url}/sel/clearing"
        status, answer = await send(http, "GET", url, None, actor.signed("GET", url, None))
        assert status == 401, f"GET /sel/clearing signed by a gone actor: {status} {answer}"
        assert actor.server.gets(actor.actor_path) >= 1  # the node did look the key up


async def test_f11_sel_accept_with_huge_sequence_does_not_fail(make_node: MakeNode) -> None:
    """F11: 500s: a SEL peer's Accept carrying result.sequence = 2**70 makes the inbox item
    fail with OverflowError."""
    lome = await make_node("lome")
    mars = await make_node("marseille", run_workers=False)  # its answer is forged below
    await ally_rows(lome, mars)
    await sel.peer_add(lome.node, mars.acct, "10", "10", by=OPERATOR)
    await sel.peer_add(mars.node, lome.acct, "10", "10", by=OPERATOR)
    await sel.account_open(lome.node, "ama", "", None, None, by=OPERATOR)
    await sel.account_open(mars.node, "bob", "", None, None, by=OPERATOR)
    host = mars.url.split("://", 1)[1]
    row, _ = await sel.exchange(
        lome.node, "ama", f"bob@{host}", "2", "cours de couture", by=OPERATOR
    )
    assert row.state == "held"
    async with lome.node.sessions() as session:
        offer_id = (
            await session.execute(select(Activity.uri).where(Activity.type == "Offer"))
        ).scalar_one()
    async with mars.node.sessions() as session:
        pem = (
            await session.execute(select(LocalActor.private_key_pem).where(LocalActor.is_node))
        ).scalar_one()
    mars_key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(mars_key, rsa.RSAPrivateKey)

    accept = {
        "@context": AS_CONTEXT,
        "id": f"{mars.url}/activities/{uuid.uuid4()}",
        "type": "Accept",
        "actor": mars.actor_id,
        "to": [lome.actor_id],
        "object": offer_id,
        "result": {
            "id": row.uri,
            "type": "Agreement",
            "sequence": 2**70,
            "published": iso(datetime.now(UTC)),
        },
    }
    url = f"{lome.url}/inbox"
    body = ap_body(accept)
    headers = sign_cavage("POST", url, f"{mars.actor_id}#main-key", mars_key, body)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        status, answer = await send(http, "POST", url, body, headers)
    assert status == 202, answer

    item = await wait_processed(lome, accept["id"])
    assert item.state == InboxState.DONE, (
        f"the Accept with sequence 2**70 ended {item.state}: {item.error}"
    )
    async with lome.node.sessions() as session:
        ama = (await session.execute(select(Account).where(Account.code == "ama"))).scalar_one()
        ex = (await session.execute(select(Exchange).where(Exchange.uri == row.uri))).scalar_one()
    # The peer committed: the exchange settles (refusing would leave the two
    # sides disagreeing for good), and the unusable sequence is not stored,
    # so reconciliation shows the exchange as a difference to look into.
    assert (ama.balance, ex.state, ex.peer_seq) == (-120, "settled", None)


# ------------------------------------------------------------------- F12: terminal escapes


def _escape_inbox(actor: HostileActor) -> dict[str, Any]:
    return {"inbox": f"{actor.actor_id}/inbox?x=\x1b[31m\x07\x1b]0;pwned\x07"}


async def test_f12_deliveries_output_has_no_terminal_escapes(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F12: terminal escapes: raw ESC/BEL from a remote inbox URL reach the terminal in
    'coopnet deliveries'."""
    rn = await make_node()
    async with HostileActor(doc_extra=_escape_inbox) as actor:
        inbox = actor.actor_doc()["inbox"]
        status, answer = await actor.post(http, f"{rn.url}/inbox", actor.follow_of(rn))
        assert status == 202, answer

        async def queued() -> bool:
            return await rn.count(Delivery, Delivery.inbox == inbox) == 1

        await until(queued, "the Accept to the attacker's inbox to be queued")
        rc, out, err = await run_cli("deliveries", "--data", str(data_dir(rn)))
    assert rc == 0, err
    assert "Accept" in out, out
    bad = control_chars(out) + control_chars(err)
    assert not bad, f"control characters {bad} in 'coopnet deliveries' output: {out!r}"


def _section(actor: HostileActor) -> dict[str, Any]:
    return {"type": "Organization", "role": "section"}


async def test_f12_sel_history_has_no_terminal_escapes(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """F12: terminal escapes: a peer-chosen payer code with ESC reaches the terminal in
    'coopnet sel history'."""
    rn = await make_node()
    async with HostileActor("evil", doc_extra=_section) as section:
        await ally_with_fake(rn, section.actor_id)
        await sel.peer_add(rn.node, section.actor_id, "10", "10", by=OPERATOR)
        await sel.account_open(rn.node, "bob", "", None, None, by=OPERATOR)
        now = datetime.now(UTC)
        agreement = section.new_id("sel/exchanges")
        offer = {
            "@context": AS_CONTEXT,
            "id": section.new_id(),
            "type": "Offer",
            "actor": section.actor_id,
            "to": [rn.actor_id],
            "object": {
                "id": agreement,
                "type": "Agreement",
                "name": "jardinage",
                "category": "other",
                "published": iso(now),
                "endTime": iso(now + timedelta(hours=1)),
                "stipulates": {
                    "type": "Commitment",
                    "action": "transfer",
                    "provider": f"{section.base_url}/sel/accounts/\x1b[31mevil\x07\x1b[2J\x9b",
                    "receiver": f"{rn.url}/sel/accounts/bob",
                    "resourceQuantity": {"hasUnit": "minute", "hasNumericalValue": "30"},
                },
            },
        }
        status, answer = await section.post(http, f"{rn.url}/inbox", offer)
        assert status == 202, answer
        await wait_processed(rn, offer["id"])
        assert await rn.count(Exchange, Exchange.uri == agreement) == 1
        rc, out, err = await run_cli("sel", "history", "--data", str(data_dir(rn)))
    assert rc == 0, err
    assert "evil" in out or "jardinage" in out, out
    bad = control_chars(out) + control_chars(err)
    assert not bad, f"control characters {bad} in 'coopnet sel history' output: {out!r}"


# ---------------------------------------------------------- F13: list-valued attributedTo


async def test_f13_note_attributed_to_a_list_of_others_is_not_stored(
    make_node: MakeNode, peer: MastodonLikePeer
) -> None:
    """F13: list-valued attributedTo: a followed actor's Create{Note} attributed to
    [another actor] is stored as if the sender wrote it."""
    rn = await make_node()
    remote, _ = await follow(rn.node, peer.acct(), by=OPERATOR)

    async def accepted() -> bool:
        n = await rn.count(
            Following,
            Following.remote_actor_id == remote.id,
            Following.state == FollowingState.ACCEPTED,
        )
        return n == 1

    await until(accepted, "the peer's Accept of our Follow")
    alice, bob = peer.actor_id("alice"), peer.actor_id("bob")

    def create(attributed_to: Any) -> dict[str, Any]:
        note_id = f"{alice}/statuses/{uuid.uuid4().int % 10**18}"
        return {
            "@context": AS_CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": alice,
            "to": [PUBLIC],
            "object": {
                "id": note_id,
                "type": "Note",
                "attributedTo": attributed_to,
                "to": [PUBLIC],
                "published": iso(datetime.now(UTC)),
                "content": "<p>who wrote this?</p>",
            },
        }

    # Control: attributed to the sender, the note is stored.
    own = create(alice)
    assert await peer.sign_and_post(f"{rn.url}/inbox", own) == 202
    item = await wait_processed(rn, own["id"])
    assert item.state == InboxState.DONE and item.error is None, item.error
    assert await rn.count(RemoteObject) == 1

    forged = create([bob])
    assert await peer.sign_and_post(f"{rn.url}/inbox", forged) == 202
    item = await wait_processed(rn, forged["id"])
    assert item.state == InboxState.DONE, item.error
    stored = await rn.count(RemoteObject, RemoteObject.uri == forged["object"]["id"])
    assert stored == 0, f"a Note attributed to [{bob}] sent by {alice} was stored"
    assert await rn.count(RemoteObject) == 1


# --------------------------------------------------------------------- F14: slow senders


async def _closed_within(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    limit: float,
    dribble: bytes | None,
) -> bool:
    """True once the server closed the connection (EOF, reset); sends one byte of ``dribble``
    every 0.5 s meanwhile. False if still open after ``limit`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    i = 0
    while loop.time() < deadline:
        if dribble is not None:
            try:
                writer.write(dribble[i % len(dribble) : i % len(dribble) + 1])
                await writer.drain()
            except (ConnectionError, OSError):
                return True
            i += 1
        try:
            data = await asyncio.wait_for(reader.read(65536), 0.5)
        except TimeoutError:
            continue
        except (ConnectionError, OSError):
            return True
        if not data:
            return True
    return False


async def test_f14_slow_headers_are_cut_off(make_node: MakeNode) -> None:
    """F14: slow senders: connections that send headers one byte every 0.5 s stay open
    (the server's header/keep-alive timeout is an hour)."""
    rn = await make_node(header_timeout_seconds=1, body_timeout_seconds=1)
    host = rn.url.split("://", 1)[1]
    port = int(host.rsplit(":", 1)[1])
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        for _ in range(50):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"POST /inbox HTTP/1.1\r\nHost: {host}\r\n".encode())
            conns.append((reader, writer))
        closed = await asyncio.gather(
            *(_closed_within(r, w, 10.0, b"X-Slow-Header: " + b"a" * 64) for r, w in conns)
        )
    finally:
        for _, writer in conns:
            writer.close()
        for _, writer in conns:
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass
    still_open = closed.count(False)
    assert still_open == 0, f"{still_open} of 50 slow-header connections still open after 10 s"


async def test_f14_stalled_body_is_cut_off(make_node: MakeNode) -> None:
    """F14: slow senders: a request that announces 1000 body bytes, sends 10 and stalls is
    never answered."""
    rn = await make_node(header_timeout_seconds=1, body_timeout_seconds=1)
    host = rn.url.split("://", 1)[1]
    port = int(host.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            (
                f"POST /inbox HTTP/1.1\r\nHost: {host}\r\nContent-Type: {AP}\r\n"
                "Content-Length: 1000\r\n\r\n"
            ).encode()
            + b'{"type": "'
        )
        await writer.drain()
        data: bytes | None
        try:
            data = await asyncio.wait_for(reader.read(65536), 10.0)
        except TimeoutError:
            data = None
        except (ConnectionError, OSError):
            data = b""
        assert data is not None, "a request with a stalled body still unanswered after 10 s"
        assert data == b"" or data.startswith(b"HTTP/1.1 408"), data[:200]
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except (ConnectionError, OSError):
            pass


# -------------------------------------------------------------- F15: invalid UTF-8 argument


async def test_f15_title_not_utf8_is_a_clean_error(tmp_path: Path) -> None:
    """F15: invalid UTF-8 argument: 'coopnet init --title' with bytes that are not UTF-8
    ends in a traceback and leaves a database behind."""
    data = tmp_path / "node"
    # PostgreSQL: an empty database, which must stay empty.
    database = await dbtools.ainit_database_args(empty=True)
    rc, out, err = await run_cli(
        "init",
        "--data",
        str(data),
        "--url",
        f"http://127.0.0.1:{free_port()}",
        "--name",
        "x",
        "--role",
        "section",
        "--title",
        b"Lom\xe9",
        *database,
    )
    if database:
        tables = await dbtools.arows(
            database[1], "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public'"
        )  # fmt: skip
        leftover = bool(tables) or (data / "coopnet.toml").exists()
    else:
        leftover = (data / "coopnet.db").exists()
    last = err.strip().splitlines()[-1] if err.strip() else ""
    assert "Traceback" not in err, (
        f"exit {rc}, traceback ending {last!r}; coopnet.db left: {leftover}"
    )
    assert rc != 0, out
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "--title" in lines[0] and "utf-8" in lines[0].lower().replace("utf8", "utf-8"), lines
    assert not leftover, f"{data}/coopnet.db (or tables in {database}) left behind"
