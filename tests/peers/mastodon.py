"""A small fake Mastodon server for federation tests.

``MastodonLikePeer`` runs an aiohttp server on 127.0.0.1 and speaks ActivityPub the way
Mastodon does on the wire: WebFinger, actors with ``publicKey``, draft-cavage HTTP signatures
(or RFC 9421 for outgoing POSTs), "secure mode" (authorized fetch), auto-accepted follows and
public ``Create(Note)`` fan-out to shared inboxes.

It is written from the specs and from Mastodon's observable behaviour only, and deliberately
imports nothing from the project's packages (``federation``, ``models``, ``node``), so that it
can catch bugs in them instead of sharing them.

Only the standard library, aiohttp and cryptography are used. All network traffic is limited
to 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import io
import itertools
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp import web
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

__all__ = [
    "AP_ACCEPT",
    "AP_CONTENT_TYPE",
    "AS_CONTEXT",
    "PUBLIC",
    "SECURITY_CONTEXT",
    "Delivery",
    "FetchRecord",
    "MastodonLikePeer",
    "PeerError",
    "ReceivedActivity",
    "SignatureError",
    "mastodon_would_display",
    "sign_cavage",
    "sign_rfc9421",
]

JSON = dict[str, Any]

AS_CONTEXT = "https://www.w3.org/ns/activitystreams"
SECURITY_CONTEXT = "https://w3id.org/security/v1"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
AP_PROFILE_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
AP_ACCEPT = f"application/activity+json, {AP_PROFILE_TYPE}"
AP_CONTENT_TYPE = "application/activity+json; charset=utf-8"
JRD_CONTENT_TYPE = "application/jrd+json; charset=utf-8"
MAX_BODY = 1024 * 1024
REQUEST_TIMEOUT = 10.0

ACTOR_TYPES = frozenset({"Application", "Group", "Organization", "Person", "Service"})
NATIVE_OBJECT_TYPES = ("Note", "Question")
CONVERTED_OBJECT_TYPES = ("Image", "Audio", "Video", "Article", "Page", "Event")

# Mastodon (app/lib/signed_request.rb): signatures are valid for 5 minutes after creation
# (or until `expires`, at most 12 hours), with a 1 hour clock-skew margin either way.
_DEFAULT_VALIDITY = timedelta(minutes=5)
_EXPIRATION_LIMIT = timedelta(hours=12)
_CLOCK_SKEW = timedelta(hours=1)

# Context Mastodon puts on statuses (abridged).
_STATUS_CONTEXT: list[Any] = [
    AS_CONTEXT,
    {
        "ostatus": "http://ostatus.org#",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
    },
]


class PeerError(Exception):
    """Something the peer was asked to do failed the way Mastodon would refuse it."""


class SignatureError(Exception):
    """An incoming request signature could not be verified."""


# --------------------------------------------------------------------------------------------
# Records kept for assertions
# --------------------------------------------------------------------------------------------


@dataclass
class ReceivedActivity:
    """A POST to one of the peer's inboxes whose signature verified."""

    path: str
    activity: JSON
    headers: dict[str, str]  # header names lower-cased
    key_id: str
    verified_via: str  # 'cavage' | 'rfc9421'
    # For Create: what mastodon_would_display() says about it; None for other types.
    display: tuple[bool, str] | None = None

    @property
    def type(self) -> Any:
        return self.activity.get("type")

    @property
    def actor(self) -> str | None:
        return _id_of(self.activity.get("actor"))

    @property
    def object(self) -> Any:
        return self.activity.get("object")


@dataclass
class FetchRecord:
    """A GET of an ActivityPub document served by the peer (actors, statuses, collections)."""

    path: str
    key_id: str | None  # key id of a signature that verified, else None
    verified_via: str | None
    signature_error: str | None  # why a present signature was refused
    status: int


@dataclass
class Delivery:
    """A POST the peer made to someone's inbox."""

    inbox: str
    activity: JSON
    status: int  # 0 when the request failed at the network level
    error: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class _KeyInfo:
    key_id: str
    owner: str
    public_key: Any


@dataclass
class _Verified:
    key_id: str
    owner: str
    scheme: str


@dataclass
class _Status:
    note: JSON
    create: JSON


@dataclass
class _User:
    key: rsa.RSAPrivateKey
    published: str
    deleted: bool = False
    follow_ids: dict[str, str] = field(default_factory=dict)  # follower -> Follow id


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _http_date(when: datetime | None = None) -> str:
    return format_datetime((when or datetime.now(UTC)).astimezone(UTC), usegmt=True)


def _iso(when: datetime | None = None) -> str:
    return (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _id_of(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        inner = value.get("id")
        return inner if isinstance(inner, str) else None
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def _includes(value: Any, wanted: str) -> bool:
    return wanted in _as_list(value)


def _strip_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))


def _authority(url: str) -> str | None:
    """Lower-cased host[:port] with the default port made explicit, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.hostname.lower()}:{port or default}"


def _check_loopback(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.hostname != "127.0.0.1":
        raise PeerError(f"refusing to contact non-loopback URL {url!r}")


def _public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _rsa_sign(key: rsa.RSAPrivateKey, data: bytes) -> bytes:
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _rsa_verify(public_key: Any, signature: bytes, data: bytes) -> bool:
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def valid_ap_content_type(content_type: str | None) -> bool:
    """Mastodon's check (JsonLdHelper#valid_activitypub_content_type?)."""
    if not content_type:
        return False
    parts = [p.strip() for p in content_type.split(";")]
    mime = parts[0].lower()
    if mime == "application/activity+json":
        return True
    if mime != "application/ld+json":
        return False
    for part in parts[1:]:
        if part.startswith('profile="') and part.endswith('"'):
            if AS_CONTEXT in part[len('profile="') : -1].split():
                return True
    return False


def _wants_json(request: web.Request) -> bool:
    accept = request.headers.get("Accept", "").lower()
    return any(
        t in accept
        for t in ("application/activity+json", "application/ld+json", "application/json")
    )


def _ap_response(doc: Any, status: int = 200) -> web.Response:
    return web.Response(
        body=json.dumps(doc).encode(),
        status=status,
        headers={"Content-Type": AP_CONTENT_TYPE, "Vary": "Accept, Accept-Encoding, Signature"},
    )


def _error(status: int, message: str) -> web.Response:
    return web.Response(
        body=json.dumps({"error": message}).encode(),
        status=status,
        headers={"Content-Type": "application/json; charset=utf-8"},
    )


def _note_html(text: str) -> str:
    paragraphs = [p for p in text.split("\n\n") if p] or [""]
    return "".join(f"<p>{html.escape(p).replace(chr(10), '<br />')}</p>" for p in paragraphs)


# --------------------------------------------------------------------------------------------
# Structured fields (RFC 8941), just enough for RFC 9421 / RFC 9530 headers
# --------------------------------------------------------------------------------------------


class _Token(str):
    """An sf-token (as opposed to an sf-string)."""


_SF_INT = re.compile(r"-?\d{1,15}(?:\.\d{1,3})?")
_SF_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_SF_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")

_Params = list[tuple[str, Any]]
_InnerList = list[tuple[Any, _Params]]


class _SFParser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def _peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def _fail(self, what: str) -> ValueError:
        return ValueError(f"structured field: {what} at offset {self.i} in {self.s!r}")

    def _skip(self, chars: str) -> None:
        while self.i < len(self.s) and self.s[self.i] in chars:
            self.i += 1

    def dictionary(self) -> list[tuple[str, Any, _Params]]:
        members: list[tuple[str, Any, _Params]] = []
        self._skip(" ")
        if self.i >= len(self.s):
            return members
        while True:
            key = self._key()
            value: Any
            if self._peek() == "=":
                self.i += 1
                value, params = self._member_value()
            else:
                value, params = True, self._params()
            members.append((key, value, params))
            self._skip(" \t")
            if self.i >= len(self.s):
                return members
            if self._peek() != ",":
                raise self._fail("expected ','")
            self.i += 1
            self._skip(" \t")
            if self.i >= len(self.s):
                raise self._fail("trailing comma")

    def _member_value(self) -> tuple[Any, _Params]:
        if self._peek() == "(":
            return self._inner_list()
        item = self._bare()
        return item, self._params()

    def _inner_list(self) -> tuple[_InnerList, _Params]:
        self.i += 1
        items: _InnerList = []
        while self.i < len(self.s):
            self._skip(" ")
            if self._peek() == ")":
                self.i += 1
                return items, self._params()
            item = self._bare()
            items.append((item, self._params()))
            if self._peek() not in (" ", ")"):
                raise self._fail("bad inner list")
        raise self._fail("unterminated inner list")

    def _params(self) -> _Params:
        params: _Params = []
        while self._peek() == ";":
            self.i += 1
            self._skip(" ")
            key = self._key()
            value: Any = True
            if self._peek() == "=":
                self.i += 1
                value = self._bare()
            params.append((key, value))
        return params

    def _key(self) -> str:
        m = _SF_KEY.match(self.s, self.i)
        if not m:
            raise self._fail("expected key")
        self.i = m.end()
        return m.group(0)

    def _bare(self) -> Any:
        c = self._peek()
        if c == "-" or c.isdigit():
            m = _SF_INT.match(self.s, self.i)
            if not m:
                raise self._fail("bad number")
            self.i = m.end()
            text = m.group(0)
            return float(text) if "." in text else int(text)
        if c == '"':
            return self._string()
        if c == ":":
            end = self.s.find(":", self.i + 1)
            if end < 0:
                raise self._fail("unterminated byte sequence")
            raw = self.s[self.i + 1 : end]
            self.i = end + 1
            try:
                return base64.b64decode(raw, validate=True)
            except ValueError as exc:
                raise self._fail("bad base64") from exc
        if c == "?":
            flag = self.s[self.i + 1 : self.i + 2]
            if flag not in ("0", "1"):
                raise self._fail("bad boolean")
            self.i += 2
            return flag == "1"
        m = _SF_TOKEN.match(self.s, self.i)
        if m:
            self.i = m.end()
            return _Token(m.group(0))
        raise self._fail("unexpected character")

    def _string(self) -> str:
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s):
            c = self.s[self.i]
            self.i += 1
            if c == "\\":
                nxt = self._peek()
                if nxt not in ('"', "\\"):
                    raise self._fail("bad escape")
                out.append(nxt)
                self.i += 1
            elif c == '"':
                return "".join(out)
            elif not (" " <= c <= "~"):
                raise self._fail("bad character in string")
            else:
                out.append(c)
        raise self._fail("unterminated string")


def _sf_dictionary(text: str) -> list[tuple[str, Any, _Params]]:
    return _SFParser(text).dictionary()


def _sf_bare(value: Any) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".") if value % 1 else f"{value:.1f}"
    if isinstance(value, bytes):
        return f":{_b64(value)}:"
    if isinstance(value, _Token):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    raise ValueError(f"cannot serialize {value!r}")


def _sf_params(params: _Params) -> str:
    return "".join(f";{k}" if v is True else f";{k}={_sf_bare(v)}" for k, v in params)


def _sf_inner_list(items: _InnerList, params: _Params) -> str:
    inner = " ".join(_sf_bare(item) + _sf_params(p) for item, p in items)
    return f"({inner}){_sf_params(params)}"


# --------------------------------------------------------------------------------------------
# Outgoing signatures
# --------------------------------------------------------------------------------------------


def _request_target(url: str) -> str:
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def sign_cavage(
    method: str,
    url: str,
    key_id: str,
    private_key: rsa.RSAPrivateKey,
    body: bytes | None = None,
    *,
    accept: str | None = None,
    content_type: str | None = "application/activity+json",
    date: datetime | None = None,
) -> dict[str, str]:
    """Headers for a draft-cavage signed request, exactly as Mastodon builds them.

    POST signs ``(request-target) host date digest content-type``; GET signs
    ``(request-target) host date accept``.
    """
    headers: dict[str, str] = {"Host": urlsplit(url).netloc, "Date": _http_date(date)}
    signed = ["(request-target)", "host", "date"]
    if body is not None:
        headers["Digest"] = f"SHA-256={_b64(_sha256(body))}"
        signed.append("digest")
        if content_type is not None:
            headers["Content-Type"] = content_type
            signed.append("content-type")
    if accept is not None:
        headers["Accept"] = accept
        signed.append("accept")
    lines = []
    for name in signed:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {_request_target(url)}")
        else:
            lines.append(f"{name}: {headers[name.title()]}")
    signature = _b64(_rsa_sign(private_key, "\n".join(lines).encode()))
    headers["Signature"] = (
        f'keyId="{key_id}",algorithm="rsa-sha256",headers="{" ".join(signed)}",'
        f'signature="{signature}"'
    )
    return headers


def sign_rfc9421(
    method: str,
    url: str,
    key_id: str,
    private_key: rsa.RSAPrivateKey,
    body: bytes | None = None,
    *,
    content_type: str | None = "application/activity+json",
    created: datetime | None = None,
    label: str = "sig1",
) -> dict[str, str]:
    """Headers for an RFC 9421 signed request (rsa-v1_5-sha256) with an RFC 9530 Content-Digest.

    Covers ``@method``, ``@target-uri`` and, when there is a body, ``content-digest``.
    """
    created_at = created or datetime.now(UTC)
    headers: dict[str, str] = {"Host": urlsplit(url).netloc, "Date": _http_date(created_at)}
    components: list[str] = ["@method", "@target-uri"]
    values = {"@method": method.upper(), "@target-uri": url}
    if body is not None:
        headers["Content-Digest"] = f"sha-256=:{_b64(_sha256(body))}:"
        values["content-digest"] = headers["Content-Digest"]
        components.append("content-digest")
        if content_type is not None:
            headers["Content-Type"] = content_type
    params: _Params = [
        ("created", int(created_at.timestamp())),
        ("keyid", key_id),
        ("alg", "rsa-v1_5-sha256"),
    ]
    sig_params = _sf_inner_list([(c, []) for c in components], params)
    base = "".join(f'"{c}": {values[c]}\n' for c in components)
    base += f'"@signature-params": {sig_params}'
    signature = _rsa_sign(private_key, base.encode())
    headers["Signature-Input"] = f"{label}={sig_params}"
    headers["Signature"] = f"{label}=:{_b64(signature)}:"
    return headers


# --------------------------------------------------------------------------------------------
# What Mastodon would show
# --------------------------------------------------------------------------------------------


def mastodon_would_display(activity: Mapping[str, Any]) -> tuple[bool, str]:
    """Would Mastodon turn this (embedded-object) Create into a visible status?

    Mirrors ActivityPub::Activity.factory / ActivityPub::Activity::Create#create_status:
    the activity type must be the string "Create"; the object type (string or list) must
    include Note or Question (shown natively) or Image, Audio, Video, Article, Page, Event
    (converted: Mastodon shows name + summary + a link, not the content); anything else is
    dropped; and the object id must live on the same host as the actor.

    Differences: hosts are compared with their port (Mastodon compares bare host names, but
    on loopback every server is 127.0.0.1); a bare-URI object is reported as not displayable
    because this pure function cannot fetch it.

    Returns (True, 'native' | 'converted') or (False, reason).
    """
    activity_type = activity.get("type")
    if not isinstance(activity_type, str):
        return False, f"activity type must be a string, got {activity_type!r}"
    if activity_type != "Create":
        return False, f"not a Create activity ({activity_type!r})"
    if not _includes(activity.get("@context"), AS_CONTEXT):
        return False, "the @context does not include the ActivityStreams context"
    obj = activity.get("object")
    if isinstance(obj, str):
        return False, "object is a bare URI (Mastodon would fetch it; not evaluated here)"
    if not isinstance(obj, Mapping):
        return False, "object missing or not a JSON object"
    object_types = [t for t in _as_list(obj.get("type")) if isinstance(t, str)]
    if any(t in NATIVE_OBJECT_TYPES for t in object_types):
        kind = "native"
    elif any(t in CONVERTED_OBJECT_TYPES for t in object_types):
        kind = "converted"
    else:
        return False, f"unsupported object type {obj.get('type')!r}"
    actor = _id_of(activity.get("actor"))
    if actor is None or _authority(actor) is None:
        return False, f"missing or invalid actor {activity.get('actor')!r}"
    object_id = obj.get("id")
    if not isinstance(object_id, str) or _authority(object_id) is None:
        return False, f"object id missing or not an http(s) URI: {object_id!r}"
    if _authority(object_id) != _authority(actor):
        return False, f"object id {object_id} is not on the actor's host ({actor})"
    return True, kind


# --------------------------------------------------------------------------------------------
# The peer
# --------------------------------------------------------------------------------------------


_CAVAGE_PARAM = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)\s*=\s*(?:"([^"]*)"|([^",\s]+))\s*')


def _parse_cavage(header: str) -> dict[str, str]:
    params: dict[str, str] = {}
    pos = 0
    while pos < len(header):
        m = _CAVAGE_PARAM.match(header, pos)
        if not m:
            raise SignatureError("error parsing signature parameters")
        params[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
        pos = m.end()
        if pos < len(header):
            if header[pos] != ",":
                raise SignatureError("error parsing signature parameters")
            pos += 1
    return params


def _check_time_window(created: datetime | None, expires: datetime | None) -> None:
    now = datetime.now(UTC)
    if created is not None:
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        expires = min(expires or created + _DEFAULT_VALIDITY, created + _EXPIRATION_LIMIT)
        if created > now + _CLOCK_SKEW:
            raise SignatureError("signed request date outside acceptable time window (future)")
    if expires is not None and now > expires + _CLOCK_SKEW:
        raise SignatureError("signed request date outside acceptable time window (expired)")


def _timestamp(value: Any, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise SignatureError(f"invalid {what} parameter {value!r}") from exc


def _find_public_key(public_key: Any, key_id: str) -> Mapping[str, Any] | None:
    for entry in _as_list(public_key):
        if isinstance(entry, Mapping) and entry.get("id") == key_id:
            return entry
    return None


def _load_pem(pem: Any) -> Any:
    if not isinstance(pem, str):
        raise PeerError("publicKeyPem missing")
    try:
        return serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise PeerError(f"unparseable publicKeyPem: {exc}") from exc


def _split_acct(value: str) -> tuple[str, str]:
    acct = value.strip()
    acct = acct.removeprefix("acct:").lstrip("@")
    user, sep, domain = acct.rpartition("@")
    if not sep or not user or not domain:
        raise PeerError(f"not an acct: {value!r}")
    return user, domain


def _self_link(jrd: Mapping[str, Any]) -> str | None:
    for link in _as_list(jrd.get("links")):
        if (
            isinstance(link, Mapping)
            and link.get("rel") == "self"
            and link.get("type") in ("application/activity+json", AP_PROFILE_TYPE)
            and isinstance(link.get("href"), str)
        ):
            return str(link["href"])
    return None


class MastodonLikePeer:
    """A fake Mastodon instance on 127.0.0.1 (see module docstring)."""

    def __init__(
        self,
        *,
        authorized_fetch: bool = True,
        usernames: Sequence[str] = ("alice",),
        signature_scheme: str = "cavage",
    ) -> None:
        if signature_scheme not in ("cavage", "rfc9421"):
            raise ValueError(f"unknown signature scheme {signature_scheme!r}")
        if isinstance(usernames, str):
            raise TypeError("usernames must be a sequence of names, not a string")
        self.authorized_fetch = authorized_fetch
        self.signature_scheme = signature_scheme
        self.usernames: tuple[str, ...] = tuple(usernames)
        self.base_url = ""
        self.host = ""

        # State for assertions.
        self.received: list[ReceivedActivity] = []
        self.rejected: list[tuple[str, str]] = []
        self.followers: dict[str, set[str]] = {u: set() for u in self.usernames}
        self.following: dict[str, dict[str, str]] = {u: {} for u in self.usernames}
        self.deliveries: list[Delivery] = []
        self.fetch_log: list[FetchRecord] = []
        self.key_fetches: list[str] = []  # key ids fetched to verify signatures
        self.remote_actors: dict[str, JSON] = {}  # actor id -> last fetched document
        self.errors: list[str] = []  # failures in background work (e.g. sending Accept)
        # POSTs answered 202 but dropped unverified, as Mastodon does (Delete of unknown actor).
        self.ignored: list[tuple[str, str]] = []
        # Extra fields merged into a user's served actor document (e.g. to break it).
        self.actor_extra: dict[str, JSON] = {u: {} for u in self.usernames}

        self._users: dict[str, _User] = {}
        self._instance_key: rsa.RSAPrivateKey | None = None
        self._statuses: dict[tuple[str, str], _Status] = {}
        self._outgoing_follows: dict[str, tuple[str, str]] = {}  # Follow id -> (user, target)
        self._key_cache: dict[str, _KeyInfo] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    # ----------------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise PeerError("peer already started")
        keys = await asyncio.to_thread(lambda: [_new_key() for _ in range(len(self.usernames) + 1)])
        self._instance_key = keys[0]
        now = _iso()
        self._users = {
            u: _User(key=k, published=now) for u, k in zip(self.usernames, keys[1:], strict=True)
        }

        app = web.Application(client_max_size=MAX_BODY * 4)
        app.router.add_get("/.well-known/webfinger", self._handle_webfinger)
        app.router.add_get("/.well-known/nodeinfo", self._handle_nodeinfo_links)
        app.router.add_get("/nodeinfo/2.0", self._handle_nodeinfo)
        app.router.add_get("/actor", self._handle_instance_actor)
        app.router.add_post("/actor/inbox", self._handle_inbox)
        app.router.add_post("/inbox", self._handle_inbox)
        app.router.add_get("/users/{name}", self._handle_actor)
        app.router.add_post("/users/{name}/inbox", self._handle_inbox)
        app.router.add_get("/users/{name}/statuses/{sid}", self._handle_status)
        app.router.add_get("/users/{name}/statuses/{sid}/activity", self._handle_status)
        app.router.add_get(
            "/users/{name}/{collection:followers|following|outbox}", self._handle_collection
        )
        app.router.add_get("/@{name}", self._handle_profile_page)
        app.router.add_get("/@{name}/{sid}", self._handle_status)

        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        port = runner.addresses[0][1]
        self.host = f"127.0.0.1:{port}"
        self.base_url = f"http://{self.host}"
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            headers={"User-Agent": f"http.rb/5.2.0 (Mastodon/4.3.0; +{self.base_url}/)"},
        )

    async def close(self) -> None:
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=REQUEST_TIMEOUT)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> MastodonLikePeer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ----------------------------------------------------------------------------- identities

    def actor_id(self, username: str = "alice") -> str:
        return f"{self.base_url}/users/{username}"

    def key_id(self, username: str = "alice") -> str:
        return f"{self.actor_id(username)}#main-key"

    def acct(self, username: str = "alice") -> str:
        return f"{username}@{self.host}"

    @property
    def instance_actor_id(self) -> str:
        return f"{self.base_url}/actor"

    @property
    def shared_inbox(self) -> str:
        return f"{self.base_url}/inbox"

    def inbox(self, username: str = "alice") -> str:
        return f"{self.actor_id(username)}/inbox"

    def followers_url(self, username: str = "alice") -> str:
        return f"{self.actor_id(username)}/followers"

    def private_key(self, username: str = "alice") -> rsa.RSAPrivateKey:
        return self._user(username).key

    def rotate_key(self, username: str = "alice") -> None:
        """Replace the user's RSA key; the old one is no longer published anywhere."""
        self._user(username).key = _new_key()

    def _user(self, username: str) -> _User:
        try:
            return self._users[username]
        except KeyError:
            raise PeerError(f"unknown local user {username!r} (peer started?)") from None

    def _username_for(self, actor_id: str | None) -> str | None:
        if actor_id is None:
            return None
        prefix = f"{self.base_url}/users/"
        if actor_id.startswith(prefix):
            name = actor_id[len(prefix) :]
            if name in self._users:
                return name
        return None

    # ----------------------------------------------------------------------------- documents

    def _actor_document(self, username: str, *, full: bool) -> JSON:
        user = self._user(username)
        actor = self.actor_id(username)
        doc: JSON = {
            "@context": [AS_CONTEXT, SECURITY_CONTEXT],
            "id": actor,
            "type": "Person",
            "following": f"{actor}/following",
            "followers": f"{actor}/followers",
            "inbox": f"{actor}/inbox",
            "outbox": f"{actor}/outbox",
            "preferredUsername": username,
            "name": username.capitalize(),
            "summary": "",
            "url": f"{self.base_url}/@{username}",
            "manuallyApprovesFollowers": False,
            "discoverable": True,
            "published": user.published,
            "publicKey": {
                "id": f"{actor}#main-key",
                "owner": actor,
                "publicKeyPem": _public_pem(user.key),
            },
            "endpoints": {"sharedInbox": self.shared_inbox},
        }
        doc.update(self.actor_extra.get(username, {}))
        if not full:
            # Mastodon's AccountsController#restrict_fields_to for unsigned requests in
            # secure mode: id type preferred_username inbox public_key endpoints.
            keep = (
                "@context",
                "id",
                "type",
                "preferredUsername",
                "inbox",
                "publicKey",
                "endpoints",
            )
            doc = {k: doc[k] for k in keep if k in doc}
        return doc

    def _instance_actor_document(self) -> JSON:
        assert self._instance_key is not None
        actor = self.instance_actor_id
        return {
            "@context": [AS_CONTEXT, SECURITY_CONTEXT],
            "id": actor,
            "type": "Application",
            "inbox": f"{actor}/inbox",
            "outbox": f"{actor}/outbox",
            "preferredUsername": self.host,
            "url": f"{self.base_url}/about/more?instance_actor=true",
            "manuallyApprovesFollowers": True,
            "publicKey": {
                "id": f"{actor}#main-key",
                "owner": actor,
                "publicKeyPem": _public_pem(self._instance_key),
            },
            "endpoints": {"sharedInbox": self.shared_inbox},
        }

    # ----------------------------------------------------------------------------- routes

    async def _handle_webfinger(self, request: web.Request) -> web.Response:
        resource = request.query.get("resource", "")
        username: str | None = None
        if resource.startswith(("http://", "https://")):
            if resource == self.instance_actor_id:
                username = self.host
            else:
                username = self._username_for(resource)
        else:
            try:
                user, domain = _split_acct(resource)
            except PeerError:
                return _error(400, "bad resource")
            if domain.lower() == self.host and (user == self.host or user in self._users):
                username = user
        if username is None:
            return _error(404, "not found")
        if username == self.host:
            actor, profile = (
                self.instance_actor_id,
                f"{self.base_url}/about/more?instance_actor=true",
            )
        else:
            if self._users[username].deleted:
                return _error(410, "gone")
            actor, profile = self.actor_id(username), f"{self.base_url}/@{username}"
        jrd = {
            "subject": f"acct:{username}@{self.host}",
            "aliases": [profile, actor] if username != self.host else [actor],
            "links": [
                {
                    "rel": "http://webfinger.net/rel/profile-page",
                    "type": "text/html",
                    "href": profile,
                },
                {"rel": "self", "type": "application/activity+json", "href": actor},
            ],
        }
        return web.Response(
            body=json.dumps(jrd).encode(),
            headers={"Content-Type": JRD_CONTENT_TYPE, "Vary": "Accept"},
        )

    async def _handle_nodeinfo_links(self, request: web.Request) -> web.Response:
        doc = {
            "links": [
                {
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                    "href": f"{self.base_url}/nodeinfo/2.0",
                }
            ]
        }
        return web.json_response(doc)

    async def _handle_nodeinfo(self, request: web.Request) -> web.Response:
        doc = {
            "version": "2.0",
            "software": {"name": "mastodon", "version": "4.3.0"},
            "protocols": ["activitypub"],
            "services": {"outbound": [], "inbound": []},
            "usage": {"users": {"total": len(self._users)}, "localPosts": len(self._statuses)},
            "openRegistrations": False,
            "metadata": {},
        }
        return web.json_response(doc)

    async def _handle_instance_actor(self, request: web.Request) -> web.Response:
        # Mastodon's InstanceActorsController never requires a signature (key bootstrap).
        self.fetch_log.append(FetchRecord(request.path, None, None, None, 200))
        return _ap_response(self._instance_actor_document())

    async def _handle_profile_page(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._users:
            return web.Response(status=404, text="not found")
        if self._users[name].deleted:
            return web.Response(status=410, text="gone")
        if _wants_json(request):
            raise web.HTTPFound(self.actor_id(name))
        actor = self.actor_id(name)
        page = (
            f"<!DOCTYPE html><html><head><title>{html.escape(name)}</title>"
            f'<link rel="alternate" type="application/activity+json" href="{actor}"></head>'
            f"<body><h1>@{html.escape(name)}@{self.host}</h1></body></html>"
        )
        return web.Response(text=page, content_type="text/html")

    async def _signer_of_get(self, request: web.Request) -> tuple[_Verified | None, str | None]:
        if "Signature" not in request.headers and "Signature-Input" not in request.headers:
            return None, None
        try:
            return await self._verify_request(request, b""), None
        except SignatureError as exc:
            return None, str(exc)

    def _log_fetch(
        self, request: web.Request, signer: _Verified | None, error: str | None, status: int
    ) -> None:
        self.fetch_log.append(
            FetchRecord(
                request.path,
                signer.key_id if signer else None,
                signer.scheme if signer else None,
                error,
                status,
            )
        )

    async def _handle_actor(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in self._users:
            return _error(404, "Record not found")
        if self._users[name].deleted:
            self._log_fetch(request, None, None, 410)
            return _error(410, "Gone")
        if not _wants_json(request):
            return await self._handle_profile_page(request)
        signer, error = await self._signer_of_get(request)
        full = signer is not None or not self.authorized_fetch
        self._log_fetch(request, signer, error, 200)
        return _ap_response(self._actor_document(name, full=full))

    async def _handle_status(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        sid = request.match_info["sid"]
        status = self._statuses.get((name, sid))
        if name not in self._users or status is None:
            return _error(404, "Record not found")
        if self._users[name].deleted:
            return _error(410, "Gone")
        if not _wants_json(request):
            page = f"<!DOCTYPE html><html><body>{status.note['content']}</body></html>"
            return web.Response(text=page, content_type="text/html")
        signer, error = await self._signer_of_get(request)
        if self.authorized_fetch and signer is None:
            self._log_fetch(request, None, error, 401)
            return _error(401, error or "Request not signed")
        self._log_fetch(request, signer, error, 200)
        if request.path.endswith("/activity"):
            return _ap_response(status.create)
        return _ap_response({"@context": _STATUS_CONTEXT, **status.note})

    async def _handle_collection(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        collection = request.match_info["collection"]
        if name not in self._users:
            return _error(404, "Record not found")
        if self._users[name].deleted:
            return _error(410, "Gone")
        signer, error = await self._signer_of_get(request)
        if self.authorized_fetch and signer is None:
            self._log_fetch(request, None, error, 401)
            return _error(401, error or "Request not signed")
        self._log_fetch(request, signer, error, 200)
        if collection == "followers":
            total = len(self.followers[name])
        elif collection == "following":
            total = sum(1 for s in self.following[name].values() if s == "accepted")
        else:
            total = sum(1 for (u, _) in self._statuses if u == name)
        return _ap_response(
            {
                "@context": AS_CONTEXT,
                "id": f"{self.actor_id(name)}/{collection}",
                "type": "OrderedCollection",
                "totalItems": total,
            }
        )

    async def _handle_inbox(self, request: web.Request) -> web.Response:
        path = request.path
        name = request.match_info.get("name")
        if name is not None:
            if name not in self._users:
                self.rejected.append((path, "unknown user"))
                return _error(404, "Record not found")
            if self._users[name].deleted:
                self.rejected.append((path, "account deleted"))
                return _error(410, "Gone")
        if request.content_length is not None and request.content_length > MAX_BODY:
            self.rejected.append((path, f"body too large ({request.content_length} bytes)"))
            return _error(413, "Payload too large")
        body = bytearray()
        while chunk := await request.content.read(65536):
            body.extend(chunk)
            if len(body) > MAX_BODY:
                self.rejected.append((path, "body too large"))
                return _error(413, "Payload too large")
        raw = bytes(body)
        if self._is_unknown_self_delete(raw):
            # Mastodon (InboxesController#skip_unknown_actor_activity): 202 without verifying.
            self.ignored.append((path, "Delete of an unknown actor"))
            return web.Response(status=202)
        try:
            verified = await self._verify_request(request, raw)
        except SignatureError as exc:
            self.rejected.append((path, str(exc)))
            return _error(401, str(exc))
        try:
            activity = json.loads(raw)
        except ValueError:
            self.rejected.append((path, "body is not JSON"))
            return _error(400, "body is not JSON")
        if not isinstance(activity, dict):
            self.rejected.append((path, "body is not a JSON object"))
            return _error(400, "body is not a JSON object")
        actor = _id_of(activity.get("actor"))
        if actor != verified.owner:
            reason = f"key owner {verified.owner} does not match activity actor {actor!r}"
            self.rejected.append((path, reason))
            return _error(401, reason)
        record = ReceivedActivity(
            path=path,
            activity=activity,
            headers={k.lower(): v for k, v in request.headers.items()},
            key_id=verified.key_id,
            verified_via=verified.scheme,
        )
        self._process(record)
        self.received.append(record)
        return web.Response(status=202)

    def _is_unknown_self_delete(self, raw: bytes) -> bool:
        try:
            activity = json.loads(raw)
        except ValueError:
            return False
        if not isinstance(activity, dict) or activity.get("type") != "Delete":
            return False
        actor = activity.get("actor")
        if not isinstance(actor, str) or actor != _id_of(activity.get("object")):
            return False
        known = set(self.remote_actors) | {k.owner for k in self._key_cache.values()}
        return actor not in known

    # ----------------------------------------------------------------------------- processing

    def _process(self, record: ReceivedActivity) -> None:
        activity = record.activity
        kind = activity.get("type")
        actor = record.actor
        assert actor is not None
        obj = activity.get("object")
        if kind == "Create":
            record.display = mastodon_would_display(activity)
        elif kind == "Follow":
            username = self._username_for(_id_of(obj))
            if username is not None and not self._users[username].deleted:
                self.followers[username].add(actor)
                follow_id = activity.get("id")
                if isinstance(follow_id, str):
                    self._users[username].follow_ids[actor] = follow_id
                self._spawn(self._send_accept(username, activity))
        elif kind in ("Accept", "Reject"):
            follow = self._outgoing_follows.get(_id_of(obj) or "")
            if follow is not None and follow[1] == actor:
                username, target = follow
                if kind == "Accept" and self.following[username].get(target) == "pending":
                    self.following[username][target] = "accepted"
                elif kind == "Reject":
                    self.following[username].pop(target, None)
        elif kind == "Undo":
            if isinstance(obj, Mapping) and obj.get("type") == "Follow":
                if _id_of(obj.get("actor")) == actor:
                    username = self._username_for(_id_of(obj.get("object")))
                    if username is not None:
                        self._remove_follower(username, actor)
            elif isinstance(obj, str):
                for username, user in self._users.items():
                    if user.follow_ids.get(actor) == obj:
                        self._remove_follower(username, actor)
        elif kind == "Delete" and _id_of(obj) == actor:
            for username in self._users:
                self._remove_follower(username, actor)
                self.following[username].pop(actor, None)
            self.remote_actors.pop(actor, None)

    def _remove_follower(self, username: str, actor: str) -> None:
        self.followers[username].discard(actor)
        self._users[username].follow_ids.pop(actor, None)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                self.errors.append(f"{type(t.exception()).__name__}: {t.exception()}")

        task.add_done_callback(done)

    async def _send_accept(self, username: str, follow: JSON) -> None:
        follower = _id_of(follow.get("actor"))
        assert follower is not None
        actor = self.actor_id(username)
        accept = {
            "@context": AS_CONTEXT,
            "id": f"{actor}#accepts/follows/{next(self._ids)}",
            "type": "Accept",
            "actor": actor,
            "object": {
                "id": follow.get("id"),
                "type": "Follow",
                "actor": follower,
                "object": actor,
            },
        }
        doc = await self._actor_for(follower)
        delivery = await self._deliver(username, str(doc["inbox"]), accept)
        if not delivery.ok:
            raise PeerError(
                f"Accept to {delivery.inbox} failed: {delivery.status} {delivery.error}"
            )

    # ----------------------------------------------------------------------------- verification

    async def _verify_request(self, request: web.Request, body: bytes) -> _Verified:
        if "Signature-Input" in request.headers:
            return await self._verify_rfc9421(request, body)
        if "Signature" in request.headers:
            return await self._verify_cavage(request, body)
        raise SignatureError("request not signed")

    async def _verify_cavage(self, request: web.Request, body: bytes) -> _Verified:
        params = _parse_cavage(", ".join(request.headers.getall("Signature")))
        key_id, signature_b64 = params.get("keyId"), params.get("signature")
        if not key_id or not signature_b64:
            raise SignatureError("incompatible request signature: keyId and signature are required")
        algorithm = params.get("algorithm", "hs2019")
        if algorithm not in ("rsa-sha256", "hs2019"):
            raise SignatureError(f"unsupported signature algorithm {algorithm!r}")
        default_headers = "(created)" if algorithm == "hs2019" else "date"
        signed = params.get("headers", default_headers).lower().split()

        created: datetime | None = None
        if algorithm == "hs2019" and params.get("created"):
            created = _timestamp(params["created"], "created")
        elif request.headers.get("Date"):
            try:
                created = parsedate_to_datetime(request.headers["Date"])
            except (TypeError, ValueError) as exc:
                raise SignatureError(f"invalid Date header {request.headers['Date']!r}") from exc
        expires = _timestamp(params["expires"], "expires") if params.get("expires") else None
        _check_time_window(created, expires)

        if "date" not in signed and "(created)" not in signed:
            raise SignatureError("the Date header or (created) pseudo-header must be signed")
        if "(request-target)" not in signed and "digest" not in signed:
            raise SignatureError("the Digest header or (request-target) must be signed")
        if request.method == "GET" and "host" not in signed:
            raise SignatureError("the Host header must be signed for GET requests")
        if request.method == "POST" and "digest" not in signed:
            raise SignatureError("the Digest header must be signed for POST requests")

        if "digest" in signed:
            if "Digest" not in request.headers:
                raise SignatureError("Digest header missing")
            digests: dict[str, str] = {}
            for part in request.headers["Digest"].split(","):
                algo, _, value = part.partition("=")
                digests[algo.strip().lower()] = value.strip()
            if "sha-256" not in digests:
                raise SignatureError(f"only SHA-256 Digest is supported, got {sorted(digests)}")
            if digests["sha-256"] != _b64(_sha256(body)):
                raise SignatureError("Digest does not match the body")

        raw_path = request.raw_path
        candidates: list[bytes] = []
        for target in dict.fromkeys([raw_path, raw_path.split("?", 1)[0]]):
            lines = []
            for name in signed:
                if name == "(request-target)":
                    lines.append(f"(request-target): {request.method.lower()} {target}")
                elif name in ("(created)", "(expires)"):
                    if algorithm != "hs2019":
                        raise SignatureError(f"pseudo-header {name} needs algorithm hs2019")
                    pseudo = params.get(name[1:-1])
                    if not pseudo:
                        raise SignatureError(f"pseudo-header {name} used without its parameter")
                    lines.append(f"{name}: {pseudo}")
                else:
                    values = request.headers.getall(name, [])
                    if not values:
                        raise SignatureError(f"signed header {name!r} is missing")
                    lines.append(f"{name}: {', '.join(v.strip() for v in values)}")
            candidates.append("\n".join(lines).encode())
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except ValueError as exc:
            raise SignatureError("signature is not valid base64") from exc

        def check(public_key: Any) -> bool:
            return any(_rsa_verify(public_key, signature, c) for c in candidates)

        info = await self._verify_with_key(key_id, check)
        return _Verified(key_id, info.owner, "cavage")

    async def _verify_rfc9421(self, request: web.Request, body: bytes) -> _Verified:
        try:
            inputs = _sf_dictionary(", ".join(request.headers.getall("Signature-Input")))
            signatures = _sf_dictionary(", ".join(request.headers.getall("Signature", [])))
        except ValueError as exc:
            raise SignatureError(f"malformed Signature-Input/Signature: {exc}") from exc
        if not inputs:
            raise SignatureError("empty Signature-Input")
        label, components, _ = inputs[0]
        if not isinstance(components, list):
            raise SignatureError(f"Signature-Input {label!r} is not an inner list")
        sig_params: _Params = inputs[0][2]
        sig_value = next((v for k, v, _ in signatures if k == label), None)
        if not isinstance(sig_value, bytes):
            raise SignatureError(f"no Signature for label {label!r}")
        params = dict(sig_params)
        key_id = params.get("keyid")
        if not isinstance(key_id, str) or not key_id:
            raise SignatureError("keyid and created parameters are required")
        if "created" not in params:
            raise SignatureError("keyid and created parameters are required")
        alg = params.get("alg")
        if alg is not None and alg != "rsa-v1_5-sha256":
            raise SignatureError(f"unsupported alg {alg!r}")
        created = _timestamp(params["created"], "created")
        expires = _timestamp(params["expires"], "expires") if "expires" in params else None
        _check_time_window(created, expires)

        names: list[str] = []
        for item, item_params in components:
            if not isinstance(item, str) or isinstance(item, _Token):
                raise SignatureError(f"bad component identifier {item!r}")
            if item_params:
                raise SignatureError(f"component parameters are not supported ({item!r})")
            if item in names:
                raise SignatureError(f"duplicate component {item!r}")
            names.append(item)
        if "@method" not in names or "@target-uri" not in names:
            raise SignatureError("@method and @target-uri must be signed")
        if request.method == "POST" and "content-digest" not in names:
            raise SignatureError("content-digest must be signed for POST requests")

        if "content-digest" in names:
            header = request.headers.get("Content-Digest")
            if header is None:
                raise SignatureError("Content-Digest header missing")
            try:
                digests = {k: v for k, v, _ in _sf_dictionary(header)}
            except ValueError as exc:
                raise SignatureError(f"malformed Content-Digest: {exc}") from exc
            if "sha-256" not in digests:
                raise SignatureError(
                    f"only sha-256 Content-Digest is supported, got {list(digests)}"
                )
            if digests["sha-256"] != _sha256(body):
                raise SignatureError("Content-Digest does not match the body")

        raw_path = request.raw_path
        path, _, query = raw_path.partition("?")
        lines = []
        for name in names:
            if name == "@method":
                value = request.method.upper()
            elif name == "@target-uri":
                value = self.base_url + raw_path
            elif name == "@authority":
                value = self.host
            elif name == "@scheme":
                value = "http"
            elif name == "@request-target":
                value = raw_path
            elif name == "@path":
                value = path
            elif name == "@query":
                value = f"?{query}"
            elif name.startswith("@"):
                raise SignatureError(f"unsupported derived component {name!r}")
            else:
                values = request.headers.getall(name, [])
                if not values:
                    raise SignatureError(f"signed header {name!r} is missing")
                value = ", ".join(v.strip() for v in values)
            lines.append(f'"{name}": {value}\n')
        base = "".join(lines) + f'"@signature-params": {_sf_inner_list(components, sig_params)}'
        data = base.encode()
        signature = sig_value

        def check(public_key: Any) -> bool:
            return _rsa_verify(public_key, signature, data)

        info = await self._verify_with_key(key_id, check)
        return _Verified(key_id, info.owner, "rfc9421")

    async def _verify_with_key(self, key_id: str, check: Callable[[Any], bool]) -> _KeyInfo:
        info = self._key_cache.get(key_id)
        fresh = info is None
        if info is None:
            info = await self._fetch_key(key_id)
        if check(info.public_key):
            return info
        if fresh:
            raise SignatureError(f"signature does not verify with key {key_id}")
        # Like Mastodon: the key may have been rotated; refetch once and retry.
        info = await self._fetch_key(key_id)
        if check(info.public_key):
            return info
        raise SignatureError(f"signature does not verify with key {key_id} (after refetch)")

    async def _fetch_key(self, key_id: str) -> _KeyInfo:
        self.key_fetches.append(key_id)
        url = _strip_fragment(key_id)
        try:
            doc = await self.fetch_object(url)
            if not _includes(doc.get("@context"), AS_CONTEXT):
                raise PeerError(f"unsupported @context in {url}")
            if "publicKey" in doc:  # the key is embedded in an actor
                owner_doc = doc
            else:  # a standalone key document
                owner = doc.get("owner")
                if not isinstance(owner, str) or doc.get("id") != key_id:
                    raise PeerError(f"{url} is neither an actor nor a key owned by one")
                owner_doc = await self.fetch_object(owner)
            owner_id = str(owner_doc["id"])
            if not any(t in ACTOR_TYPES for t in _as_list(owner_doc.get("type"))):
                raise PeerError(
                    f"key owner {owner_id} has unexpected type {owner_doc.get('type')!r}"
                )
            entry = _find_public_key(owner_doc.get("publicKey"), key_id)
            if entry is None:
                raise PeerError(f"actor {owner_id} does not publish key {key_id}")
            if entry.get("owner") != owner_id:
                raise PeerError(f"key {key_id} owner {entry.get('owner')!r} is not {owner_id}")
            public_key = _load_pem(entry.get("publicKeyPem"))
        except PeerError as exc:
            self._key_cache.pop(key_id, None)
            raise SignatureError(f"could not fetch key {key_id}: {exc}") from exc
        self.remote_actors[owner_id] = owner_doc
        info = _KeyInfo(key_id, owner_id, public_key)
        self._key_cache[key_id] = info
        return info

    # ----------------------------------------------------------------------------- client side

    @property
    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise PeerError("peer not started")
        return self._session

    async def fetch_object(self, url: str, *, signed: bool = True) -> JSON:
        """GET an ActivityPub document like Mastodon does (signed by the instance actor).

        Checks: 200, an ActivityPub content type, a JSON object whose ``id`` equals the URL.
        """
        _check_loopback(url)
        assert self._instance_key is not None
        headers: dict[str, str]
        if signed:
            headers = sign_cavage(
                "GET",
                url,
                f"{self.instance_actor_id}#main-key",
                self._instance_key,
                accept=AP_ACCEPT,
            )
        else:
            headers = {"Accept": AP_ACCEPT}
        try:
            async with self._http.get(url, headers=headers, allow_redirects=False) as resp:
                raw = await resp.read()
                status, content_type = resp.status, resp.headers.get("Content-Type")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PeerError(f"GET {url} failed: {type(exc).__name__}: {exc}") from exc
        if status != 200:
            raise PeerError(f"GET {url} answered {status}: {raw[:300]!r}")
        if len(raw) > MAX_BODY:
            raise PeerError(f"GET {url}: response too large")
        if not valid_ap_content_type(content_type):
            raise PeerError(f"GET {url}: not an ActivityPub content type: {content_type!r}")
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise PeerError(f"GET {url}: invalid JSON") from exc
        if not isinstance(doc, dict):
            raise PeerError(f"GET {url}: not a JSON object")
        if doc.get("id") != url:
            raise PeerError(f"GET {url}: document id {doc.get('id')!r} differs from the URL")
        return doc

    async def webfinger(self, acct: str) -> JSON:
        """Unsigned WebFinger query, as Mastodon makes it (over http on loopback)."""
        user, domain = _split_acct(acct)
        url = f"http://{domain}/.well-known/webfinger"
        _check_loopback(url)
        try:
            async with self._http.get(
                url,
                params={"resource": f"acct:{user}@{domain}"},
                headers={"Accept": "application/jrd+json, application/json"},
                allow_redirects=False,
            ) as resp:
                raw = await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PeerError(f"WebFinger {user}@{domain} failed: {exc}") from exc
        if status != 200:
            raise PeerError(f"WebFinger {user}@{domain} answered {status}")
        try:
            jrd = json.loads(raw)
        except ValueError as exc:
            raise PeerError(f"WebFinger {user}@{domain}: invalid JSON") from exc
        if not isinstance(jrd, dict) or not isinstance(jrd.get("subject"), str):
            raise PeerError(f"WebFinger {user}@{domain}: no subject")
        return jrd

    def _validate_actor(self, doc: Mapping[str, Any]) -> None:
        actor_id = doc.get("id")
        if not _includes(doc.get("@context"), AS_CONTEXT):
            raise PeerError(f"actor {actor_id}: @context lacks {AS_CONTEXT}")
        if not any(t in ACTOR_TYPES for t in _as_list(doc.get("type"))):
            raise PeerError(f"actor {actor_id}: unsupported type {doc.get('type')!r}")
        if not isinstance(doc.get("preferredUsername"), str) or not doc["preferredUsername"]:
            raise PeerError(f"actor {actor_id}: preferredUsername missing")
        if not isinstance(doc.get("inbox"), str) or not doc["inbox"]:
            raise PeerError(f"actor {actor_id}: inbox missing")
        keys = [k for k in _as_list(doc.get("publicKey")) if isinstance(k, Mapping)]
        if not keys:
            raise PeerError(f"actor {actor_id}: publicKey missing")
        if not any(k.get("owner") == actor_id for k in keys):
            raise PeerError(f"actor {actor_id}: publicKey.owner is not the actor")
        for k in keys:
            _load_pem(k.get("publicKeyPem"))

    async def _check_webfinger_roundtrip(self, doc: Mapping[str, Any]) -> None:
        """Mastodon's check_webfinger!: preferredUsername@host must resolve back to the id."""
        actor_id = str(doc["id"])
        username, domain = str(doc["preferredUsername"]), urlsplit(actor_id).netloc
        jrd = await self.webfinger(f"{username}@{domain}")
        subject_user, subject_domain = _split_acct(jrd["subject"])
        if subject_user.lower() != username.lower() or subject_domain.lower() != domain.lower():
            jrd = await self.webfinger(f"{subject_user}@{subject_domain}")
            again = _split_acct(jrd["subject"])
            if (again[0].lower(), again[1].lower()) != (
                subject_user.lower(),
                subject_domain.lower(),
            ):
                raise PeerError(f"WebFinger for {username}@{domain} does not settle on a subject")
        if _self_link(jrd) != actor_id:
            raise PeerError(
                f"WebFinger for {username}@{domain} does not loop back to {actor_id} "
                f"(self link {_self_link(jrd)!r})"
            )

    async def resolve(self, acct_or_url: str) -> str:
        """Resolve an acct or actor URL to a validated actor id (WebFinger round trip included)."""
        if acct_or_url.startswith(("http://", "https://")):
            url = acct_or_url
        else:
            jrd = await self.webfinger(acct_or_url)
            subject = jrd["subject"]
            if _split_acct(subject) != _split_acct(acct_or_url):
                jrd = await self.webfinger(subject)
            link = _self_link(jrd)
            if link is None:
                raise PeerError(f"WebFinger for {acct_or_url}: no ActivityPub self link")
            url = link
        doc = await self.fetch_object(url)
        self._validate_actor(doc)
        await self._check_webfinger_roundtrip(doc)
        self.remote_actors[url] = doc
        return url

    async def _actor_for(self, actor_id: str) -> JSON:
        doc = self.remote_actors.get(actor_id)
        if doc is None:
            doc = await self.fetch_object(actor_id)
            self._validate_actor(doc)
            self.remote_actors[actor_id] = doc
        return doc

    async def _inbox_of(self, actor_id: str, *, shared: bool) -> str:
        doc = await self._actor_for(actor_id)
        if shared:
            endpoints = doc.get("endpoints")
            if isinstance(endpoints, Mapping) and isinstance(endpoints.get("sharedInbox"), str):
                return str(endpoints["sharedInbox"])
        return str(doc["inbox"])

    def _sign(
        self,
        url: str,
        body: bytes,
        key_id: str,
        key: rsa.RSAPrivateKey,
        *,
        scheme: str | None = None,
        date: datetime | None = None,
    ) -> dict[str, str]:
        if (scheme or self.signature_scheme) == "rfc9421":
            return sign_rfc9421("POST", url, key_id, key, body, created=date)
        return sign_cavage("POST", url, key_id, key, body, date=date)

    async def _post(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        _check_loopback(url)
        skip = () if any(k.lower() == "content-type" for k in headers) else ("Content-Type",)
        # aiohttp warns (ResourceWarning) about raw bytes bodies over 1 MiB.
        data: bytes | io.BytesIO = io.BytesIO(body) if len(body) > 1024 * 1024 else body
        async with self._http.post(
            url, data=data, headers=dict(headers), allow_redirects=False, skip_auto_headers=skip
        ) as resp:
            return resp.status, await resp.text(errors="replace")

    async def _deliver(self, username: str, inbox: str, activity: JSON) -> Delivery:
        user = self._user(username)
        body = json.dumps(activity).encode()
        headers = self._sign(inbox, body, self.key_id(username), user.key)
        delivery = Delivery(inbox=inbox, activity=activity, status=0)
        try:
            delivery.status, text = await self._post(inbox, body, headers)
            if not delivery.ok:
                delivery.error = text[:300]
        except (aiohttp.ClientError, TimeoutError, PeerError) as exc:
            delivery.error = f"{type(exc).__name__}: {exc}"
        self.deliveries.append(delivery)
        return delivery

    async def _deliver_many(
        self, username: str, inboxes: Iterable[str], activity: JSON, raise_on_error: bool
    ) -> list[Delivery]:
        results = await asyncio.gather(*(self._deliver(username, i, activity) for i in inboxes))
        failed = [d for d in results if not d.ok]
        if failed and raise_on_error:
            details = "; ".join(f"{d.inbox}: {d.status} {d.error}" for d in failed)
            raise PeerError(f"{activity.get('type')} delivery failed: {details}")
        return list(results)

    async def _inboxes(self, actor_ids: Iterable[str]) -> list[str]:
        inboxes: dict[str, None] = {}
        for actor_id in actor_ids:
            inboxes[await self._inbox_of(actor_id, shared=True)] = None
        return list(inboxes)

    # ----------------------------------------------------------------------------- actions

    async def follow(self, acct_or_url: str, username: str = "alice") -> str:
        """Resolve the target like Mastodon, then deliver a signed Follow to its personal inbox.

        Returns the Follow id; ``following[username][target]`` becomes 'pending' (and
        'accepted' when a matching Accept arrives).
        """
        self._user(username)
        target = await self.resolve(acct_or_url)
        actor = self.actor_id(username)
        follow_id = f"{actor}#follows/{uuid.uuid4()}"
        activity = {
            "@context": AS_CONTEXT,
            "id": follow_id,
            "type": "Follow",
            "actor": actor,
            "object": target,
        }
        # Recorded before sending: a fast server may Accept before our POST returns.
        self.following[username][target] = "pending"
        self._outgoing_follows[follow_id] = (username, target)
        delivery = await self._deliver(username, str(self.remote_actors[target]["inbox"]), activity)
        if not delivery.ok:
            if self.following[username].get(target) == "pending":
                del self.following[username][target]
            del self._outgoing_follows[follow_id]
            raise PeerError(
                f"Follow to {delivery.inbox} failed: {delivery.status} {delivery.error}"
            )
        return follow_id

    async def post(self, text: str, username: str = "alice", *, raise_on_error: bool = True) -> str:
        """Publish a public Note and deliver Create(Note) to the followers' (shared) inboxes."""
        user = self._user(username)
        if user.deleted:
            raise PeerError(f"{username} is deleted")
        actor = self.actor_id(username)
        sid = str(int(time.time() * 1000) * 1000 + next(self._ids) % 1000)
        note_id = f"{actor}/statuses/{sid}"
        published = _iso()
        content = _note_html(text)
        note: JSON = {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": None,
            "published": published,
            "url": f"{self.base_url}/@{username}/{sid}",
            "attributedTo": actor,
            "to": [PUBLIC],
            "cc": [self.followers_url(username)],
            "sensitive": False,
            "atomUri": note_id,
            "inReplyToAtomUri": None,
            "content": content,
            "contentMap": {"en": content},
            "attachment": [],
            "tag": [],
        }
        create: JSON = {
            "@context": _STATUS_CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor,
            "published": published,
            "to": [PUBLIC],
            "cc": [self.followers_url(username)],
            "object": note,
        }
        self._statuses[(username, sid)] = _Status(note=note, create=create)
        inboxes = await self._inboxes(sorted(self.followers[username]))
        await self._deliver_many(username, inboxes, create, raise_on_error)
        return note_id

    async def reply(
        self,
        to_object_url: str | None,
        to_actor_url: str,
        text: str,
        username: str = "alice",
        *,
        visibility: str = "public",
        raise_on_error: bool = True,
    ) -> str:
        """Reply to a status (or, with ``to_object_url=None``, just mention an account).

        Shaped as Mastodon writes a reply: the mentioned account in ``cc`` (public) or
        ``to`` (direct), a ``Mention`` tag, an h-card @-link at the start of the content.
        Like Mastodon, the Create goes to the mentioned account's inbox (its shared inbox
        when it has one) even if nobody follows anybody, and to the replier's followers
        unless it is direct. Returns the Note's id.
        """
        if visibility not in ("public", "direct"):
            raise ValueError(f"visibility {visibility!r}: public or direct")
        user = self._user(username)
        if user.deleted:
            raise PeerError(f"{username} is deleted")
        target = await self._actor_for(to_actor_url)
        target_user = str(target["preferredUsername"])
        mention_name = f"@{target_user}@{urlsplit(to_actor_url).netloc}"
        profile = target.get("url") if isinstance(target.get("url"), str) else to_actor_url
        actor = self.actor_id(username)
        sid = str(int(time.time() * 1000) * 1000 + next(self._ids) % 1000)
        note_id = f"{actor}/statuses/{sid}"
        published = _iso()
        card = (
            f'<span class="h-card" translate="no"><a href="{html.escape(str(profile))}" '
            f'class="u-url mention">@<span>{html.escape(target_user)}</span></a></span>'
        )
        body = _note_html(text)
        content = body.replace("<p>", f"<p>{card} ", 1)
        if visibility == "public":
            to, cc = [PUBLIC], [self.followers_url(username), to_actor_url]
        else:
            to, cc = [to_actor_url], []
        note: JSON = {
            "id": note_id,
            "type": "Note",
            "summary": None,
            "inReplyTo": to_object_url,
            "published": published,
            "url": f"{self.base_url}/@{username}/{sid}",
            "attributedTo": actor,
            "to": to,
            "cc": cc,
            "sensitive": False,
            "atomUri": note_id,
            "inReplyToAtomUri": to_object_url,
            "content": content,
            "contentMap": {"en": content},
            "attachment": [],
            "tag": [{"type": "Mention", "href": to_actor_url, "name": mention_name}],
        }
        create: JSON = {
            "@context": _STATUS_CONTEXT,
            "id": f"{note_id}/activity",
            "type": "Create",
            "actor": actor,
            "published": published,
            "to": to,
            "cc": cc,
            "object": note,
        }
        self._statuses[(username, sid)] = _Status(note=note, create=create)
        inboxes = [await self._inbox_of(to_actor_url, shared=True)]
        if visibility == "public":
            inboxes += await self._inboxes(sorted(self.followers[username]))
        await self._deliver_many(username, list(dict.fromkeys(inboxes)), create, raise_on_error)
        return note_id

    async def vote(
        self,
        question_id: str,
        author_actor: str,
        option_names: Sequence[str],
        username: str = "alice",
        *,
        raise_on_error: bool = True,
    ) -> list[Delivery]:
        """Vote in a remote poll the way Mastodon does (ActivityPub::VoteSerializer).

        One ``Create`` per option chosen, each of a ``Note`` whose ``name`` is the
        option's text and ``inReplyTo`` the Question, attributed to the voter,
        addressed to the poll's author only, without content; the ids are
        fragments of the voter's actor (``#votes/N``), as Mastodon's are. Each is
        delivered to the author's own inbox, signed by this peer.
        """
        user = self._user(username)
        if user.deleted:
            raise PeerError(f"{username} is deleted")
        actor = self.actor_id(username)
        inbox = await self._inbox_of(author_actor, shared=False)
        sent = []
        for name in option_names:
            vote_id = f"{actor}#votes/{next(self._ids)}"
            create: JSON = {
                "@context": AS_CONTEXT,
                "id": f"{vote_id}/activity",
                "type": "Create",
                "actor": actor,
                "to": author_actor,
                "object": {
                    "id": vote_id,
                    "type": "Note",
                    "name": name,
                    "attributedTo": actor,
                    "inReplyTo": question_id,
                    "to": author_actor,
                },
            }
            sent += await self._deliver_many(username, [inbox], create, raise_on_error)
        return sent

    async def unfollow(
        self, target_actor_id: str, username: str = "alice", *, raise_on_error: bool = True
    ) -> None:
        """Deliver Undo{Follow} to the target's personal inbox and forget the follow."""
        actor = self.actor_id(username)
        follow_id = next(
            (
                fid
                for fid, (u, t) in self._outgoing_follows.items()
                if (u, t) == (username, target_actor_id)
            ),
            None,
        )
        if follow_id is None:
            raise PeerError(f"{username} never followed {target_actor_id}")
        undo = {
            "@context": AS_CONTEXT,
            "id": f"{follow_id}/undo",
            "type": "Undo",
            "actor": actor,
            "object": {
                "id": follow_id,
                "type": "Follow",
                "actor": actor,
                "object": target_actor_id,
            },
        }
        self.following[username].pop(target_actor_id, None)
        for fid in [
            f for f, ut in self._outgoing_follows.items() if ut == (username, target_actor_id)
        ]:
            del self._outgoing_follows[fid]
        inbox = await self._inbox_of(target_actor_id, shared=False)
        await self._deliver_many(username, [inbox], undo, raise_on_error)

    async def delete_account(self, username: str = "alice", *, raise_on_error: bool = True) -> None:
        """Deliver Delete{actor} to followers and followed actors; then the actor answers 410."""
        user = self._user(username)
        actor = self.actor_id(username)
        delete = {
            "@context": [AS_CONTEXT, SECURITY_CONTEXT],
            "id": f"{actor}#delete",
            "type": "Delete",
            "actor": actor,
            "object": actor,
            "to": [PUBLIC],
        }
        peers = sorted(self.followers[username] | set(self.following[username]))
        inboxes = await self._inboxes(peers)
        try:
            await self._deliver_many(username, inboxes, delete, raise_on_error)
        finally:
            user.deleted = True
            self.followers[username].clear()
            self.following[username].clear()

    async def send_raw(self, inbox_url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """Unsigned POST of arbitrary bytes; returns the HTTP status."""
        status, _ = await self._post(inbox_url, body, headers)
        return status

    async def sign_and_post(
        self,
        inbox_url: str,
        activity: JSON,
        username: str = "alice",
        *,
        key_override: rsa.RSAPrivateKey | None = None,
        tamper_body: bool = False,
        key_id: str | None = None,
        date: datetime | None = None,
        scheme: str | None = None,
    ) -> int:
        """Sign ``activity`` as ``username`` and POST it; returns the HTTP status.

        key_override signs with another private key (keyId unchanged); key_id claims another
        keyId; date backdates/forwards the Date header (and RFC 9421 ``created``); tamper_body
        sends a different (still valid JSON) body than the one signed; scheme overrides
        the peer's signature_scheme.
        """
        user = self._user(username)
        body = json.dumps(activity).encode()
        headers = self._sign(
            inbox_url,
            body,
            key_id or self.key_id(username),
            key_override or user.key,
            scheme=scheme,
            date=date,
        )
        if tamper_body:
            body = json.dumps({**activity, "tampered": True}).encode()
        status, text = await self._post(inbox_url, body, headers)
        self.deliveries.append(
            Delivery(inbox_url, activity, status, None if 200 <= status < 300 else text[:300])
        )
        return status

    # ----------------------------------------------------------------------------- waiting

    def describe(self) -> str:
        """Human-readable summary of what was received and refused (for failure messages)."""
        lines = [f"received ({len(self.received)}):"]
        for r in self.received:
            obj = r.object
            obj_desc = obj.get("type") if isinstance(obj, Mapping) else obj
            lines.append(
                f"  {r.path} {r.type} actor={r.actor} object={obj_desc} via={r.verified_via}"
                + (f" display={r.display}" if r.display else "")
            )
        lines.append(f"rejected ({len(self.rejected)}):")
        lines.extend(f"  {path}: {reason}" for path, reason in self.rejected)
        if self.errors:
            lines.append(f"background errors: {self.errors}")
        return "\n".join(lines)

    async def wait_for(
        self,
        predicate: Callable[[ReceivedActivity], bool],
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> ReceivedActivity:
        """Return the first received activity matching ``predicate``, polling until timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for record in self.received:
                if predicate(record):
                    return record
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError(
                    f"{self.base_url}: nothing matching after {timeout}s\n{self.describe()}"
                )
            await asyncio.sleep(0.02)

    async def wait_until(
        self,
        condition: Callable[[], bool | Awaitable[bool]],
        timeout: float = 10.0,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        """Poll ``condition()`` until true (e.g. ``following[...] == 'accepted'``)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            if asyncio.get_running_loop().time() >= deadline:
                raise TimeoutError(
                    f"{self.base_url}: {what} not met after {timeout}s\n{self.describe()}"
                )
            await asyncio.sleep(0.02)
