"""Fan-out receivers: many distinct inboxes (/i/{n}/inbox) on a few loopback ports.

Each POST is timed on arrival (once its body is read), then its digest and
signature are checked with the node's public key (a delivery that would
not verify at a real server does not count: it is answered 401 and
reported). GET /stats on any port gives the totals. Run by bench.fanout as
`python -m bench.receivers --ports P1,P2 --key NODE_PUBLIC_KEY.pem`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web

from federation.keys import load_public_key
from federation.signatures import SignatureError, parse_request_signature, verify_signature

LOOPBACK = "127.0.0.1"


def make_app(public_key_pem: str) -> web.Application:
    key = load_public_key(public_key_pem)
    arrivals: dict[int, float] = {}
    totals = {"posts": 0, "bad": 0}

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        now = time.time()
        totals["posts"] += 1
        port = request.transport.get_extra_info("sockname")[1] if request.transport else 0
        try:
            parsed = parse_request_signature(
                request.method,
                f"http://{LOOPBACK}:{port}{request.raw_path}",
                request.headers,
                body,
                datetime.now(UTC),
                3600,
            )
            ok = verify_signature(parsed, key) and json.loads(body).get("type") == "Create"
        except (SignatureError, ValueError, AttributeError):
            ok = False
        if not ok:
            totals["bad"] += 1
            return web.Response(status=401)
        arrivals.setdefault(int(request.match_info["n"]), now)
        return web.Response(status=202)

    async def stats(request: web.Request) -> web.Response:
        times = arrivals.values()
        return web.json_response(
            {
                **totals,
                "distinct": len(arrivals),
                "first": min(times, default=None),
                "last": max(times, default=None),
            }
        )

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/i/{n:[0-9]+}/inbox", inbox)
    app.router.add_get("/stats", stats)
    return app


async def serve(ports: list[int], public_key_pem: str) -> None:
    runner = web.AppRunner(make_app(public_key_pem), access_log=None)
    await runner.setup()
    for port in ports:
        await web.TCPSite(runner, LOOPBACK, port).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--ports", required=True, help="comma-separated loopback ports")
    p.add_argument("--key", type=Path, required=True, help="the node's public key (PEM)")
    args = p.parse_args()
    ports = [int(x) for x in args.ports.split(",")]
    asyncio.run(serve(ports, args.key.read_text(encoding="ascii")))


if __name__ == "__main__":
    main()
