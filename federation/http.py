"""The one HTTP client every outgoing request goes through.

It signs every request (Mastodon in secure mode refuses unsigned GETs),
refuses addresses a public node must not reach (the SSRF guard: private,
loopback, link-local... unless the node is itself local or the operator
allows them), caps response sizes and follows redirects only by checking
each hop again. Tests point it at loopback nodes by allowing private
addresses; nothing in here is mocked.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from federation.delivery import Outcome
from federation.keys import load_private_key
from federation.signatures import sign_request
from federation.vocab import ACCEPT_AP, ACTIVITY_JSON, AS_CONTEXT, as_list, is_ap_media_type

USER_AGENT = "coopnet/0.1"
MAX_FETCH_BYTES = 2 * 1024 * 1024
MAX_REDIRECTS = 3


class FetchError(Exception):
    """A remote document could not be had; ``status`` is the HTTP status if there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class BlockedAddress(FetchError):
    pass


@dataclass(frozen=True)
class Signer:
    key_id: str
    private_key_pem: str


def address_allowed(ip: str) -> bool:
    """Only globally routable unicast addresses; v4-mapped v6 judged as v4."""
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


class GuardedResolver(AbstractResolver):
    """Resolves names, then drops every address the guard refuses.

    Checking after resolution (not before the request) is what stops DNS
    rebinding: the address connected to is the address checked.
    """

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if address_allowed(r["host"])]
        if not allowed:
            raise OSError(f"{host} resolves only to private or reserved addresses (SSRF guard)")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def make_session(
    *, allow_private: bool, timeout: float = 10.0, limit: int = 100, user_agent: str = USER_AGENT
) -> aiohttp.ClientSession:
    """The node's one client session; the User-Agent names the node so admins can reach us."""
    connector = aiohttp.TCPConnector(
        limit=limit,
        # No per-host cap beyond the total: most deliveries go to a few big
        # servers' shared inboxes, and the worker already bounds what is in flight.
        limit_per_host=0,
        resolver=None if allow_private else GuardedResolver(),
        ttl_dns_cache=300,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": user_agent},
        auto_decompress=True,
    )


Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ApClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        signer: Signer | None,
        allow_private: bool,
        allow_http: bool,
        clock: Clock = _utcnow,
    ) -> None:
        self.session = session
        self.signer = signer
        self.allow_private = allow_private
        self.allow_http = allow_http
        self.clock = clock

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url!r}")
        if parts.scheme == "http" and not self.allow_http:
            raise FetchError(f"refusing plain http from a public node: {url}")
        if self.allow_private:
            return
        host = parts.hostname
        try:
            ipaddress.ip_address(host)
        except ValueError:
            if host == "localhost" or host.endswith(".localhost"):
                raise BlockedAddress(f"{host} is a local name (SSRF guard)") from None
            return
        if not address_allowed(host):
            raise BlockedAddress(f"{host} is a private or reserved address (SSRF guard)")

    def _signed_headers(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        signer: Signer | None,
    ) -> dict[str, str]:
        if signer is None:
            return headers
        added = sign_request(
            method,
            url,
            headers,
            body,
            signer.key_id,
            load_private_key(signer.private_key_pem),
            self.clock(),
        )
        return {**headers, **added}

    async def get(
        self, url: str, *, accept: str = ACCEPT_AP, sign: bool = True
    ) -> tuple[int, str, bytes, str]:
        """GET, signed and guarded on every hop: (status, content type, body, final URL)."""
        for _ in range(MAX_REDIRECTS + 1):
            self.check_url(url)
            headers = self._signed_headers(
                "GET", url, {"Accept": accept}, None, self.signer if sign else None
            )
            try:
                async with self.session.get(url, headers=headers, allow_redirects=False) as resp:
                    if resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers:
                        url = urljoin(url, resp.headers["Location"])
                        continue
                    body = await resp.content.read(MAX_FETCH_BYTES + 1)
                    if len(body) > MAX_FETCH_BYTES:
                        raise FetchError(f"{url}: response larger than {MAX_FETCH_BYTES} bytes")
                    return resp.status, resp.headers.get("Content-Type", ""), body, url
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        raise FetchError(f"{url}: too many redirects")

    async def get_json(self, url: str, *, accept: str = ACCEPT_AP, sign: bool = True) -> Any:
        status, ctype, body, final = await self.get(url, accept=accept, sign=sign)
        if status != 200:
            raise FetchError(f"{final} answered HTTP {status}", status)
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FetchError(f"{final} did not return JSON ({ctype or 'no content type'})") from exc

    async def fetch_object(self, url: str) -> dict[str, Any]:
        """An ActivityPub document, checked the way Mastodon checks it.

        The ``id`` must be the URL we asked for (no redirect may substitute
        another document), the media type must be ActivityStreams and the
        ``@context`` must include the AS context.
        """
        status, ctype, body, final = await self.get(url)
        if status != 200:
            raise FetchError(f"{url} answered HTTP {status}", status)
        if not is_ap_media_type(ctype):
            raise FetchError(f"{url} is not ActivityStreams (content type {ctype or 'missing'})")
        try:
            doc = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise FetchError(f"{url} returned malformed JSON") from exc
        if not isinstance(doc, dict):
            raise FetchError(f"{url} returned JSON that is not an object")
        if doc.get("id") != url or final != url:
            raise FetchError(f"{url} returned a document whose id is {doc.get('id')!r}")
        if AS_CONTEXT not in as_list(doc.get("@context")):
            raise FetchError(f"{url} lacks the ActivityStreams @context")
        return doc

    async def post_activity(self, inbox: str, body: bytes, signer: Signer) -> Outcome:
        """One signed delivery. Never raises for a remote problem: returns the Outcome."""
        try:
            self.check_url(inbox)
        except FetchError as exc:
            return Outcome(error=str(exc), permanent=True)
        headers = self._signed_headers(
            "POST", inbox, {"Content-Type": ACTIVITY_JSON, "Accept": ACCEPT_AP}, body, signer
        )
        try:
            async with self.session.post(
                inbox, data=body, headers=headers, allow_redirects=False
            ) as resp:
                await resp.read()
                return Outcome(status=resp.status, retry_after=resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Outcome(status=None, error=f"{type(exc).__name__}: {exc}"[:500])
