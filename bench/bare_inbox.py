"""The ceiling for inbox ingest: an aiohttp handler doing only the unavoidable work.

It checks the digest and the HTTP signature (the project's own
parse_request_signature + verify_signature, keys already in memory),
checks that the signer is the activity's actor, parses the JSON and
answers 202. No storage, no processing. Run by bench.inbox as
`python -m bench.bare_inbox --port P --public-url URL --keys FILE`.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from federation.keys import load_public_key
from federation.signatures import SignatureError, parse_request_signature, verify_signature
from federation.vocab import get_id


def make_app(public_url: str, keys: dict[str, tuple[str, object]]) -> web.Application:
    counts = {"accepted": 0, "refused": 0}

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            parsed = parse_request_signature(
                request.method,
                public_url + request.raw_path,
                request.headers,
                body,
                datetime.now(UTC),
                3600,
            )
        except SignatureError as exc:
            counts["refused"] += 1
            return web.Response(status=401, text=exc.reason)
        key = keys.get(parsed.key_id)
        if key is None or not verify_signature(parsed, key[1]):  # type: ignore[arg-type]
            counts["refused"] += 1
            return web.Response(status=401, text="signature does not verify")
        try:
            activity = json.loads(body)
        except ValueError:
            counts["refused"] += 1
            return web.Response(status=400, text="not JSON")
        if not isinstance(activity, dict) or get_id(activity.get("actor")) != key[0]:
            counts["refused"] += 1
            return web.Response(status=401, text="signer is not the actor")
        counts["accepted"] += 1
        return web.Response(status=202)

    async def health(request: web.Request) -> web.Response:
        return web.json_response(counts)

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/inbox", inbox)
    app.router.add_get("/health", health)
    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--public-url", required=True, help="the URL the senders signed for")
    p.add_argument("--keys", type=Path, required=True, help="JSON {keyId: {owner, pem}}")
    args = p.parse_args()
    raw = json.loads(args.keys.read_text(encoding="utf-8"))
    keys = {kid: (v["owner"], load_public_key(v["pem"])) for kid, v in raw.items()}
    web.run_app(
        make_app(args.public_url.rstrip("/"), keys),
        host="127.0.0.1",
        port=args.port,
        access_log=None,
        print=None,
    )


if __name__ == "__main__":
    main()
