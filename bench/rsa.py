"""The machine's RSA-2048 signing rate: the unit the fan-out figure is judged against.

Every delivery costs one PKCS#1 v1.5 / SHA-256 signature; a node that
spent one whole core on signing would deliver this many per second.
Measured once per run (`rsa_sign_per_s`), in this process on one core,
while no node runs (the run's PostgreSQL server, if any, is idle), just
before the fan-outs of every setup; each setup's fanout_ratio divides its
delivery rate by it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bench.common import Figures
from federation.signatures import digest_header, http_date


def signing_string() -> bytes:
    """What sign_request signs for a delivery POST to a shared inbox."""
    return "\n".join(
        [
            "(request-target): post /inbox",
            "host: social.example.org",
            f"date: {http_date(datetime.now(UTC))}",
            f"digest: {digest_header(b'{}' * 700)}",
            "content-type: application/activity+json",
        ]
    ).encode("ascii")


def sign_rate(seconds: float) -> float:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    data = signing_string()
    pad, sha = padding.PKCS1v15(), hashes.SHA256()
    key.sign(data, pad, sha)
    n = 0
    start = time.perf_counter()
    while True:
        for _ in range(50):
            key.sign(data, pad, sha)
        n += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def run(figs: Figures, seconds: float) -> float:
    return figs.add("rsa_sign_per_s", sign_rate(seconds), "signatures/s")
