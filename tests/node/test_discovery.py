"""Discovery documents: WebFinger (RFC 7033, FEP-d556), NodeInfo 2.1 and host-meta."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import aiohttp
import pytest

from models.accounts import OPERATOR
from node.actions import post_note
from tests.conftest import MakeNode, RunningNode

JRD = "application/jrd+json"
AP = "application/activity+json"
PROFILE_PAGE = "http://webfinger.net/rel/profile-page"
NODEINFO_21 = "http://nodeinfo.diaspora.software/ns/schema/2.1"
NODEINFO_21_TYPE = f'application/json; profile="{NODEINFO_21}#"'
XRD_NS = "http://docs.oasis-open.org/ns/xri/xrd-1.0"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

# NodeInfo 2.1 schema: "additionalProperties": false at these levels.
NODEINFO_TOP_KEYS = {
    "version",
    "software",
    "protocols",
    "services",
    "openRegistrations",
    "usage",
    "metadata",
}
NODEINFO_SOFTWARE_KEYS = {"name", "version", "repository", "homepage"}
NODEINFO_USAGE_KEYS = {"users", "localPosts", "localComments"}
NODEINFO_USERS_KEYS = {"total", "activeHalfyear", "activeMonth"}


async def webfinger(
    http: aiohttp.ClientSession, rn: RunningNode, resource: str | None
) -> tuple[int, str, Any]:
    params = {} if resource is None else {"resource": resource}
    async with http.get(
        f"{rn.url}/.well-known/webfinger",
        params=params,
        headers={"Accept": "application/jrd+json, application/json"},
    ) as resp:
        doc = await resp.json(content_type=None)
        return resp.status, resp.content_type, doc


def self_links(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [link for link in doc.get("links", []) if link.get("rel") == "self"]


def assert_jrd_for_actor(doc: dict[str, Any], actor_id: str) -> None:
    selfs = self_links(doc)
    assert len(selfs) == 1, doc
    assert selfs[0]["type"] == AP
    assert selfs[0]["href"] == actor_id


async def test_webfinger_acct_with_port(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node()
    port = rn.url.rsplit(":", 1)[1]
    acct = f"acct:lome@127.0.0.1:{port}"
    assert rn.acct == acct.removeprefix("acct:")

    status, ctype, doc = await webfinger(http, rn, acct)

    assert status == 200, doc
    assert ctype == JRD
    assert doc["subject"] == acct
    assert_jrd_for_actor(doc, rn.actor_id)
    profiles = [link for link in doc["links"] if link.get("rel") == PROFILE_PAGE]
    assert len(profiles) == 1, doc
    href = profiles[0]["href"]
    assert isinstance(href, str) and href.startswith(rn.url + "/"), href
    # The profile page is a real page a person can open.
    async with http.get(href, headers={"Accept": BROWSER}) as resp:
        assert resp.status == 200
        assert resp.content_type == "text/html"
        assert f"@lome@127.0.0.1:{port}" in await resp.text()


@pytest.mark.parametrize(
    ("resource", "status"),
    [
        ("acct:nobody@{host}", 404),
        ("acct:lome@example.org", 404),
        ("acct:lome@127.0.0.1:1", 404),
        ("", 400),
        (None, 400),
    ],
    ids=["unknown-user", "other-host", "other-port", "empty-resource", "missing-resource"],
)
async def test_webfinger_refusals(
    resource: str | None, status: int, make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node()
    host = rn.url.split("://", 1)[1]
    if resource is not None:
        resource = resource.format(host=host)

    got, _, doc = await webfinger(http, rn, resource)

    assert got == status, doc
    assert isinstance(doc, dict) and isinstance(doc.get("error"), str) and doc["error"], doc
    assert "links" not in doc


async def test_webfinger_by_actor_url(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node()

    status, ctype, doc = await webfinger(http, rn, rn.actor_id)

    assert status == 200, doc
    assert ctype == JRD
    assert doc["subject"] == f"acct:{rn.acct}"
    assert_jrd_for_actor(doc, rn.actor_id)


@pytest.mark.parametrize("suffix", ["/", ""])
async def test_webfinger_server_url_is_node_actor(
    suffix: str, make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    """FEP-d556: the server's own URL resolves to its application (node) actor."""
    rn = await make_node()

    status, ctype, doc = await webfinger(http, rn, rn.url + suffix)

    assert status == 200, doc
    assert ctype == JRD
    assert_jrd_for_actor(doc, rn.actor_id)
    async with http.get(rn.actor_id, headers={"Accept": AP}) as resp:
        assert resp.status == 200
        actor = await resp.json(content_type=None)
    assert actor["id"] == rn.actor_id


# ----------------------------------------------------------------------------- NodeInfo


async def nodeinfo(http: aiohttp.ClientSession, rn: RunningNode) -> tuple[str, dict[str, Any]]:
    async with http.get(f"{rn.url}/.well-known/nodeinfo") as resp:
        assert resp.status == 200
        links = await resp.json(content_type=None)
    matching = [link for link in links["links"] if link.get("rel") == NODEINFO_21]
    assert len(matching) == 1, links
    href = matching[0]["href"]
    assert isinstance(href, str) and href.startswith(rn.url + "/"), href
    async with http.get(href) as resp:
        assert resp.status == 200
        content_type = resp.headers["Content-Type"]
        doc = await resp.json(content_type=None)
    return content_type, doc


@pytest.mark.parametrize("role", ["section", "seat"])
async def test_nodeinfo_21(role: str, make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node("lome", role)

    content_type, doc = await nodeinfo(http, rn)

    assert content_type == NODEINFO_21_TYPE
    assert set(doc) == NODEINFO_TOP_KEYS
    assert doc["version"] == "2.1"
    software = doc["software"]
    assert set(software) <= NODEINFO_SOFTWARE_KEYS
    assert re.fullmatch(r"[a-z0-9-]+", software["name"]), software
    assert isinstance(software["version"], str) and software["version"]
    assert doc["protocols"] == ["activitypub"]
    assert set(doc["services"]) == {"inbound", "outbound"}
    assert isinstance(doc["openRegistrations"], bool)
    usage = doc["usage"]
    assert set(usage) <= NODEINFO_USAGE_KEYS
    assert set(usage["users"]) <= NODEINFO_USERS_KEYS
    for value in [*usage["users"].values(), usage["localPosts"]]:
        assert isinstance(value, int) and value >= 0, usage
    assert isinstance(doc["metadata"], dict)
    assert role in doc["metadata"].values(), doc["metadata"]
    other = "seat" if role == "section" else "section"
    assert other not in doc["metadata"].values(), doc["metadata"]


async def test_nodeinfo_counts_local_posts(
    make_node: MakeNode, http: aiohttp.ClientSession
) -> None:
    rn = await make_node(run_workers=False)
    _, before = await nodeinfo(http, rn)

    await post_note(rn.node, "First announcement of the section.", by=OPERATOR)
    _, after_one = await nodeinfo(http, rn)
    await post_note(rn.node, "Second announcement of the section.", by=OPERATOR)
    _, after_two = await nodeinfo(http, rn)

    start = before["usage"]["localPosts"]
    assert after_one["usage"]["localPosts"] == start + 1
    assert after_two["usage"]["localPosts"] == start + 2


# ----------------------------------------------------------------------------- host-meta


def is_own_lrdd(template: str, rn: RunningNode) -> bool:
    return template == f"{rn.url}/.well-known/webfinger?resource={{uri}}"


async def test_host_meta_xrd(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node()
    async with http.get(f"{rn.url}/.well-known/host-meta") as resp:
        assert resp.status == 200
        assert resp.content_type == "application/xrd+xml"
        text = await resp.text()

    root = ET.fromstring(text)
    assert root.tag == f"{{{XRD_NS}}}XRD"
    links = [link for link in root.findall(f"{{{XRD_NS}}}Link") if link.get("rel") == "lrdd"]
    assert len(links) == 1, text
    template = links[0].get("template") or ""
    assert template.endswith("/.well-known/webfinger?resource={uri}"), template
    assert is_own_lrdd(template, rn), template


async def test_host_meta_json(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node()
    async with http.get(
        f"{rn.url}/.well-known/host-meta", headers={"Accept": "application/json"}
    ) as resp:
        assert resp.status == 200
        assert resp.content_type == "application/json"
        doc = await resp.json()

    links = [link for link in doc["links"] if link.get("rel") == "lrdd"]
    assert len(links) == 1, doc
    template = links[0]["template"]
    assert template.endswith("/.well-known/webfinger?resource={uri}"), template
    assert is_own_lrdd(template, rn), template
