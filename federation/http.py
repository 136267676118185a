"""The one HTTP client every outgoing request goes through.

It signs every request (Mastodon in secure mode refuses unsigned GETs),
refuses addresses a public node must not reach (the SSRF guard: private,
loopback, link-local... unless the node is itself local or the operator
allows them), caps response sizes and follows redirects only by checking
each hop again. Tests point it at loopback nodes by allowing private
addresses; nothing in here is mocked.
"""

from __future__ import annotations

import asyncio
import ipaddress
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
from federation.vocab import (
    ACCEPT_AP,
    ACTIVITY_JSON,
    AS_CONTEXT,
    as_list,
    is_ap_media_type,
    parse_json,
    same_origin,
)

USER_AGENT = "coopnet/0.1"
#: Largest document we fetch (actors, objects, WebFinger), read whole.
MAX_FETCH_BYTES = 2 * 1024 * 1024
#: What we read of an inbox's answer to a delivery: the status is what counts.
MAX_DELIVERY_RESPONSE_BYTES = 16 * 1024
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


#: IPv6 ranges refused outright: deprecated or local-use forms that embed an
#: IPv4 address or reach a site-local network, which ``is_global`` still
#: calls global (checked against Python 3.11's ipaddress).
_REFUSED_V6 = tuple(
    ipaddress.IPv6Network(n)
    for n in (
        "::/96",  # IPv4-compatible (deprecated): ::a.b.c.d
        "::ffff:0:0:0/96",  # IPv4-translated (RFC 2765)
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "2001::/32",  # Teredo
        "fec0::/10",  # site-local (deprecated)
    )
)
#: The well-known NAT64 prefix: the last 32 bits are the IPv4 address reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
#: IPv4 ranges ``is_global`` lets through: IETF protocol assignments
#: (192.0.0.9, 192.0.0.10) and the deprecated 6to4 relay anycast.
_REFUSED_V4 = tuple(ipaddress.IPv4Network(n) for n in ("192.0.0.0/24", "192.88.99.0/24"))


def _embedded_v4(addr: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to, for the forms that embed one."""
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    if addr in _NAT64:
        return ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return addr.sixtofour  # 2002:a.b.c.d::/48, or None


def address_allowed(ip: str) -> bool:
    """Only globally routable unicast addresses.

    An IPv6 address that embeds an IPv4 one (mapped, NAT64, 6to4) is judged
    by the IPv4 address it reaches: on a DNS64 network ``64:ff9b::a9fe:a9fe``
    is the cloud metadata service. Deprecated and local-use forms are refused.
    """
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if any(addr in net for net in _REFUSED_V6):
            return False
        inner = _embedded_v4(addr)
        if inner is not None:
            addr = inner
    if isinstance(addr, ipaddress.IPv4Address) and any(addr in net for net in _REFUSED_V4):
        return False
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
    *,
    allow_private: bool,
    timeout: float = 10.0,
    limit: int = 100,
    limit_per_host: int = 0,
    user_agent: str = USER_AGENT,
) -> aiohttp.ClientSession:
    """A client session; the User-Agent names the node so admins can reach us.

    Waiting for a free connection counts against ``total`` only, never
    against the TCP connect timeout: a pool kept busy by a slow host must
    not make a fast host's fetch fail at once.
    """
    connector = aiohttp.TCPConnector(
        limit=limit,
        limit_per_host=limit_per_host,
        resolver=None if allow_private else GuardedResolver(),
        ttl_dns_cache=300,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=timeout, sock_connect=min(timeout, 5.0), sock_read=timeout
        ),
        headers={"User-Agent": user_agent},
        auto_decompress=True,
    )


Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


async def read_capped(resp: aiohttp.ClientResponse, limit: int, url: str) -> bytes:
    """The whole body, however it is split into packets, or FetchError past ``limit``.

    (``content.read(n)`` returns only what is already buffered, so a
    document sent in two writes would be cut short.)
    """
    if resp.content_length is not None and resp.content_length > limit:
        raise FetchError(f"{url}: response of {resp.content_length} bytes, over {limit}")
    body = bytearray()
    async for chunk in resp.content.iter_chunked(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise FetchError(f"{url}: response larger than {limit} bytes")
    return bytes(body)


async def drain_some(resp: aiohttp.ClientResponse, limit: int) -> None:
    """Read at most ``limit`` bytes of a body we do not need.

    A small answer is read to its end so the connection can be reused; a
    larger one is abandoned and the connection closed, so an inbox that
    answers with gigabytes costs us nothing.
    """
    read = 0
    while read <= limit:
        chunk = await resp.content.readany()
        if not chunk:
            return
        read += len(chunk)


class ApClient:
    """Signed, guarded requests: GETs on the fetch pool, deliveries on their own.

    Key fetches answer an inbox request that is waiting, so they must never
    queue behind deliveries (or the other way round); each GET has a total
    time budget that covers waiting for a connection, every redirect and the
    whole body.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        signer: Signer | None,
        allow_private: bool,
        allow_http: bool,
        clock: Clock = _utcnow,
        delivery_session: aiohttp.ClientSession | None = None,
        budget: float | None = None,
    ) -> None:
        self.session = session
        self.delivery_session = delivery_session or session
        self.signer = signer
        self.allow_private = allow_private
        self.allow_http = allow_http
        self.clock = clock
        #: The node's policy on a URL (a blocked domain): the reason to refuse it, or None.
        self.refuse: Callable[[str], str | None] | None = None
        timeout = session.timeout.total
        self.budget = budget or timeout or 10.0

    def check_url(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url!r}")
        if parts.scheme == "http" and not self.allow_http:
            raise FetchError(f"refusing plain http from a public node: {url}")
        reason = self.refuse(url) if self.refuse else None
        if reason:
            raise BlockedAddress(f"{parts.hostname}: {reason}")
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
        self, url: str, *, accept: str = ACCEPT_AP, sign: bool = True, limit: int = MAX_FETCH_BYTES
    ) -> tuple[int, str, bytes, str]:
        """GET, signed and guarded on every hop: (status, content type, body, final URL).

        The body is read whole up to ``limit`` bytes; FetchError past it, or
        when the whole exchange takes longer than the budget.
        """
        try:
            async with asyncio.timeout(self.budget):
                return await self._get(url, accept, sign, limit)
        except TimeoutError as exc:
            raise FetchError(f"{url}: no complete answer within {self.budget:g} s") from exc

    async def _get(
        self, url: str, accept: str, sign: bool, limit: int
    ) -> tuple[int, str, bytes, str]:
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
                    body = await read_capped(resp, limit, url)
                    return resp.status, resp.headers.get("Content-Type", ""), body, url
            except (aiohttp.ClientError, OSError) as exc:
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        raise FetchError(f"{url}: too many redirects")

    async def get_json(self, url: str, *, accept: str = ACCEPT_AP, sign: bool = True) -> Any:
        status, ctype, body, final = await self.get(url, accept=accept, sign=sign)
        if status != 200:
            raise FetchError(f"{final} answered HTTP {status}", status)
        try:
            return parse_json(body)
        except ValueError as exc:
            raise FetchError(f"{final} did not return JSON ({ctype or 'no content type'})") from exc

    async def fetch_object(self, url: str, *, exact_id: bool = True) -> dict[str, Any]:
        """An ActivityPub document, checked the way Mastodon checks it.

        The ``id`` must be the URL we asked for (no redirect may substitute
        another document), the media type must be ActivityStreams and the
        ``@context`` must include the AS context. ``exact_id=False`` only
        allows an id elsewhere on the same server: GoToSocial answers a key
        URL with a stub of its actor, which the caller must then fetch by id.
        """
        status, ctype, body, final = await self.get(url)
        if status != 200:
            raise FetchError(f"{url} answered HTTP {status}", status)
        if not is_ap_media_type(ctype):
            raise FetchError(f"{url} is not ActivityStreams (content type {ctype or 'missing'})")
        try:
            doc = parse_json(body)
        except ValueError as exc:
            raise FetchError(f"{url} returned malformed JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise FetchError(f"{url} returned JSON that is not an object")
        ident = doc.get("id")
        if exact_id and (ident != url or final != url):
            raise FetchError(f"{url} returned a document whose id is {ident!r}")
        if not isinstance(ident, str) or not same_origin(ident, url) or not same_origin(final, url):
            raise FetchError(f"{url} returned a document whose id is {ident!r}")
        if AS_CONTEXT not in as_list(doc.get("@context")):
            raise FetchError(f"{url} lacks the ActivityStreams @context")
        return doc

    async def post_activity(self, inbox: str, body: bytes, signer: Signer) -> Outcome:
        """One signed delivery. Never raises for a remote problem: returns the Outcome.

        Only the status and ``Retry-After`` matter; at most
        MAX_DELIVERY_RESPONSE_BYTES of the answer is read.
        """
        try:
            self.check_url(inbox)
        except FetchError as exc:
            return Outcome(error=str(exc), permanent=True)
        headers = self._signed_headers(
            "POST", inbox, {"Content-Type": ACTIVITY_JSON, "Accept": ACCEPT_AP}, body, signer
        )
        try:
            async with self.delivery_session.post(
                inbox, data=body, headers=headers, allow_redirects=False
            ) as resp:
                await drain_some(resp, MAX_DELIVERY_RESPONSE_BYTES)
                return Outcome(status=resp.status, retry_after=resp.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Outcome(status=None, error=f"{type(exc).__name__}: {exc}"[:500])
