"""NodeInfo 2.1 (FEP-f1d5): what the fediverse's crawlers and dashboards read."""

from __future__ import annotations

from typing import Any

from federation.vocab import NODEINFO_21_SCHEMA

SOFTWARE = "coopnet"


def well_known(base: str) -> dict[str, Any]:
    return {"links": [{"rel": NODEINFO_21_SCHEMA, "href": f"{base}/nodeinfo/2.1"}]}


def document(
    *,
    version: str,
    users: int,
    active_month: int,
    active_halfyear: int,
    local_posts: int,
    metadata: dict[str, Any],
) -> dict[str, Any]:
    """Exactly the top-level keys the 2.1 schema allows; anything of ours goes in metadata."""
    return {
        "version": "2.1",
        # repository/homepage are optional in 2.1; added once the project has a public home.
        "software": {"name": SOFTWARE, "version": version},
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {
            "users": {
                "total": users,
                "activeHalfyear": active_halfyear,
                "activeMonth": active_month,
            },
            "localPosts": local_posts,
        },
        "metadata": metadata,
    }


def host_meta_xrd(base: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{base}/.well-known/webfinger?resource={{uri}}"/>\n'
        "</XRD>\n"
    )


def host_meta_json(base: str) -> dict[str, Any]:
    return {
        "links": [{"rel": "lrdd", "template": f"{base}/.well-known/webfinger?resource={{uri}}"}]
    }
