from __future__ import annotations

import aiohttp

from tests.conftest import MakeNode


async def test_actor_json_served(make_node: MakeNode, http: aiohttp.ClientSession) -> None:
    rn = await make_node()
    async with http.get(rn.actor_id, headers={"Accept": "application/activity+json"}) as resp:
        assert resp.status == 200
        doc = await resp.json(content_type=None)
    assert doc["id"] == rn.actor_id
    assert doc["type"] == "Organization"
