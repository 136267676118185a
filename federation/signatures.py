"""HTTP message signatures the way the fediverse actually uses them.

Two schemes coexist on the network: the old draft-cavage-http-signatures-12 format that every
ActivityPub server speaks (and that Mastodon's ``app/lib/request.rb`` emits), and RFC 9421 that
recent Mastodon versions send and that the rest of the fediverse is slowly adopting. We must
verify both and be able to emit both, byte-compatible with what Mastodon expects, otherwise our
deliveries are silently dropped by the largest part of the network.

Everything here is a pure function: no network access, no key fetching, and no clock reads. The
caller passes ``now`` so that time-window checks are deterministic in tests and so that a node
simulation can run on a fake clock. Verification is split in two steps: ``parse_request_signature``
does every check that does not need the sender's key (so a request can be rejected before we
spend a network round-trip fetching the actor), and ``verify_signature`` does the RSA part once
the key is known.
"""

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

__all__ = [
    "ParsedSignature",
    "SignatureError",
    "content_digest_header",
    "digest_header",
    "http_date",
    "parse_request_signature",
    "sign_request",
    "sign_request_rfc9421",
    "verify_signature",
]


class SignatureError(Exception):
    """A request signature that must be refused before (or instead of) checking the crypto.

    ``reason`` is kept separate from the exception machinery so the HTTP layer can log it and
    echo it in a 401 body without leaking a traceback-shaped message.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ParsedSignature:
    """Everything needed to finish verification once the sender's public key is fetched.

    ``legacy_signing_string`` exists because Mastodon releases before 4.0 omitted the query
    string from ``(request-target)``; Mastodon's own verifier still accepts that form, so we do
    too (it is only ever set for draft-cavage requests whose target has a query string).
    """

    scheme: str
    key_id: str
    signing_string: bytes
    signature: bytes
    created: datetime | None
    legacy_signing_string: bytes | None = field(default=None)


# --------------------------------------------------------------------------------------------
# Small shared helpers
# --------------------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_CAVAGE_ALGORITHM = "rsa-sha256"
_RFC9421_ALGORITHM = "rsa-v1_5-sha256"
_RFC9421_LABEL = "sig1"
_INTEGER_RE = re.compile(r"[0-9]{1,15}")


def _as_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC: the project never stores local wall-clock times."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _to_bytes(text: str) -> bytes:
    """Header text back to the octets that were on the wire.

    aiohttp decodes header bytes as UTF-8 with ``surrogateescape``; reversing it the same way
    means a non-UTF-8 header value still round-trips to the exact bytes the peer signed.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError as exc:
        raise SignatureError("header value is not encodable") from exc


def _header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """All values of one header, matched case-insensitively.

    Iterating ``items()`` rather than indexing makes this work for plain dicts with arbitrary
    key casing and also collects every value of a repeated header from a multidict, which the
    signature specs say must be joined rather than truncated to the first one.
    """
    wanted = name.lower()
    return [value for key, value in headers.items() if key.lower() == wanted]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    values = _header_values(headers, name)
    if not values:
        return None
    return ", ".join(value.strip() for value in values)


def _split_url(url: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme.lower() not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    _ = parts.port  # raises ValueError on a malformed port
    return parts


def _authority(parts: SplitResult) -> str:
    """host[:port] normalised the way both Mastodon and RFC 9421 §2.2.3 expect.

    The default port is dropped because peers compare against a Host header that omits it; a
    non-default port must stay, or a node on :8443 can never be verified.
    """
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


def _check_host(value: str, parts: SplitResult) -> None:
    """A signed ``host`` must be this server's own authority.

    Otherwise a request signed for another server's inbox (most are at
    ``/inbox``) could be replayed here within the window; RFC 9421's
    ``@authority`` is bound the same way, by construction.
    """
    try:
        claimed = urlsplit(f"{parts.scheme}://{value.strip()}")
        ours = _authority(parts).lower()
        theirs = _authority(claimed).lower() if claimed.hostname else None
    except ValueError as exc:
        raise SignatureError("invalid host header") from exc
    if theirs != ours:
        raise SignatureError(f"signed for host {value.strip()!r}, but this server is {ours!r}")


def _path(parts: SplitResult) -> str:
    return parts.path or "/"


def _request_target(parts: SplitResult) -> str:
    query = f"?{parts.query}" if parts.query else ""
    return f"{_path(parts)}{query}"


def _without_fragment(url: str) -> str:
    """Fragments never reach the server, so a signature must not cover them."""
    return url.split("#", 1)[0]


def _check_window(moment: datetime, now: datetime, window_seconds: int, what: str) -> None:
    delta = (now - moment).total_seconds()
    if delta > window_seconds:
        raise SignatureError(f"{what} too far in the past")
    if delta < -window_seconds:
        raise SignatureError(f"{what} in the future")


def _from_timestamp(value: int, what: str) -> datetime:
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureError(f"invalid {what}") from exc


def _rsa_sign(private_key: RSAPrivateKey, data: bytes) -> bytes:
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


# --------------------------------------------------------------------------------------------
# Public formatting helpers
# --------------------------------------------------------------------------------------------


def digest_header(body: bytes) -> str:
    """Legacy ``Digest`` value; Mastodon refuses a signed POST without it."""
    return f"SHA-256={_b64(hashlib.sha256(body).digest())}"


def content_digest_header(body: bytes) -> str:
    """RFC 9530 ``Content-Digest``; what RFC 9421 signers cover instead of ``Digest``."""
    return f"sha-256=:{_b64(hashlib.sha256(body).digest())}:"


def http_date(now: datetime) -> str:
    """IMF-fixdate built by hand because ``strftime`` day/month names follow the C locale."""
    moment = _as_utc(now)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year:04d} {moment.hour:02d}:{moment.minute:02d}:{moment.second:02d} GMT"
    )


# --------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------


def _check_cavage_key_id(key_id: str) -> None:
    """draft-cavage has no escaping rules, so a quote or backslash would corrupt the header."""
    if not key_id or any(c in '"\\' or not 0x20 <= ord(c) < 0x7F for c in key_id):
        raise ValueError(f"keyId cannot be carried in a Signature header: {key_id!r}")


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    now: datetime,
) -> dict[str, str]:
    """draft-cavage signature as Mastodon sends it. Returns the headers to ADD to the request:
    Host, Date, Digest (only when body is not None), Signature. POST covers
    '(request-target) host date digest content-type' (content-type only if present in headers);
    GET covers '(request-target) host date accept' (accept only if present). algorithm="rsa-sha256".
    Host header includes the port when the URL has a non-default one.

    The header order and the exact ``keyId=...,algorithm=...,headers=...,signature=...`` layout
    mirror Mastodon because some implementations parse the header with naive regexes. The query
    string is included in ``(request-target)`` (Mastodon >= 4.0 behaviour; older verifiers that
    drop it are long gone from the network).
    """
    _check_cavage_key_id(key_id)
    parts = _split_url(_without_fragment(url))
    verb = method.lower()
    added: dict[str, str] = {"Host": _authority(parts), "Date": http_date(now)}
    covered: list[tuple[str, str]] = [
        ("(request-target)", f"{verb} {_request_target(parts)}"),
        ("host", added["Host"]),
        ("date", added["Date"]),
    ]
    if body is not None:
        added["Digest"] = digest_header(body)
        covered.append(("digest", added["Digest"]))
    extra = "accept" if verb in ("get", "head") else "content-type"
    extra_value = _header(headers, extra)
    if extra_value is not None:
        covered.append((extra, extra_value))

    signing_string = "\n".join(f"{name}: {value}" for name, value in covered)
    signature = _rsa_sign(private_key, _to_bytes(signing_string))
    names = " ".join(name for name, _ in covered)
    added["Signature"] = (
        f'keyId="{key_id}",algorithm="{_CAVAGE_ALGORITHM}",headers="{names}",'
        f'signature="{_b64(signature)}"'
    )
    return added


def _sf_string(value: str) -> str:
    """Serialise an RFC 8941 sf-string; refuses what the grammar cannot carry."""
    if any(not 0x20 <= ord(c) < 0x7F for c in value):
        raise ValueError(f"not representable as a structured-field string: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sign_request_rfc9421(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_id: str,
    private_key: RSAPrivateKey,
    now: datetime,
) -> dict[str, str]:
    """RFC 9421 as recent Mastodon sends it: label sig1, covers ("@method" "@target-uri" and
    "content-digest" when there is a body), params created, keyid, alg="rsa-v1_5-sha256".
    Returns Signature-Input, Signature, Content-Digest (when body), Date.

    ``@target-uri`` is the URL exactly as given (minus any fragment): the receiver rebuilds it
    from its own configured base URL, so callers should pass the canonical inbox/object URL.
    ``headers`` is accepted for symmetry with ``sign_request`` but nothing in it is covered,
    matching Mastodon's minimal component set.
    """
    del headers  # intentionally uncovered, see docstring
    target = _without_fragment(url)
    _split_url(target)
    created = int(_as_utc(now).timestamp())
    added: dict[str, str] = {}
    components: list[tuple[str, str]] = [("@method", method.upper()), ("@target-uri", target)]
    if body is not None:
        added["Content-Digest"] = content_digest_header(body)
        components.append(("content-digest", added["Content-Digest"]))

    inner = " ".join(_sf_string(name) for name, _ in components)
    params = f'({inner});created={created};keyid={_sf_string(key_id)};alg="{_RFC9421_ALGORITHM}"'
    lines = [f"{_sf_string(name)}: {value}" for name, value in components]
    lines.append(f'"@signature-params": {params}')
    signature = _rsa_sign(private_key, _to_bytes("\n".join(lines)))

    added["Signature-Input"] = f"{_RFC9421_LABEL}={params}"
    added["Signature"] = f"{_RFC9421_LABEL}=:{_b64(signature)}:"
    added["Date"] = http_date(now)
    return added


# --------------------------------------------------------------------------------------------
# RFC 8941 structured fields (just the parts RFC 9421 / RFC 9530 need)
# --------------------------------------------------------------------------------------------


class _SFError(ValueError):
    pass


class _Token(str):
    """sf-token, kept distinct from sf-string because RFC 9421 requires strings in places."""

    __slots__ = ()


_BareItem = int | float | str | bytes | bool


@dataclass(frozen=True)
class _Item:
    value: _BareItem
    params: dict[str, _BareItem]


@dataclass(frozen=True)
class _InnerList:
    items: tuple[_Item, ...]
    params: dict[str, _BareItem]


@dataclass(frozen=True)
class _Member:
    """A dictionary member plus its source text, which RFC 9421 needs verbatim."""

    value: _Item | _InnerList
    raw: str


_LCALPHA = frozenset("abcdefghijklmnopqrstuvwxyz")
_ALPHA = _LCALPHA | frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGIT = frozenset("0123456789")
_KEY_CHARS = _LCALPHA | _DIGIT | frozenset("_-.*")
_TCHAR = _ALPHA | _DIGIT | frozenset("!#$%&'*+-.^_`|~")
_TOKEN_CHARS = _TCHAR | frozenset(":/")
_B64_CHARS = _ALPHA | _DIGIT | frozenset("+/=")


class _SFParser:
    """RFC 8941 §4.2 parsing algorithm, kept close to the spec text so it is auditable."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def _at_end(self) -> bool:
        return self.pos >= len(self.text)

    def _skip_sp(self) -> None:
        while self._peek() == " ":
            self.pos += 1

    def _skip_ows(self) -> None:
        while self._peek() in (" ", "\t"):
            self.pos += 1

    def parse_dictionary(self) -> dict[str, _Member]:
        self._skip_sp()
        result: dict[str, _Member] = {}
        while not self._at_end():
            key = self._key()
            value: _Item | _InnerList
            if self._peek() == "=":
                self.pos += 1
                start = self.pos
                value = self._item_or_inner_list()
            else:
                start = self.pos
                value = _Item(True, self._params())
            result[key] = _Member(value, self.text[start : self.pos])
            self._skip_ows()
            if self._at_end():
                break
            if self._peek() != ",":
                raise _SFError("expected ',' between dictionary members")
            self.pos += 1
            self._skip_ows()
            if self._at_end():
                raise _SFError("trailing comma")
        return result

    def _key(self) -> str:
        first = self._peek()
        if not first or (first not in _LCALPHA and first != "*"):
            raise _SFError("invalid key")
        start = self.pos
        self.pos += 1
        while self._peek() and self._peek() in _KEY_CHARS:
            self.pos += 1
        return self.text[start : self.pos]

    def _item_or_inner_list(self) -> _Item | _InnerList:
        if self._peek() == "(":
            return self._inner_list()
        return self._item()

    def _inner_list(self) -> _InnerList:
        self.pos += 1
        items: list[_Item] = []
        while not self._at_end():
            self._skip_sp()
            if self._peek() == ")":
                self.pos += 1
                return _InnerList(tuple(items), self._params())
            items.append(self._item())
            if self._peek() not in (" ", ")"):
                raise _SFError("invalid inner list")
        raise _SFError("unterminated inner list")

    def _item(self) -> _Item:
        value = self._bare_item()
        return _Item(value, self._params())

    def _params(self) -> dict[str, _BareItem]:
        params: dict[str, _BareItem] = {}
        while self._peek() == ";":
            self.pos += 1
            self._skip_sp()
            key = self._key()
            value: _BareItem = True
            if self._peek() == "=":
                self.pos += 1
                value = self._bare_item()
            params[key] = value
        return params

    def _bare_item(self) -> _BareItem:
        char = self._peek()
        if char == "-" or (char and char in _DIGIT):
            return self._number()
        if char == '"':
            return self._string()
        if char == ":":
            return self._byte_sequence()
        if char == "?":
            return self._boolean()
        if char == "*" or (char and char in _ALPHA):
            return self._token()
        raise _SFError("invalid bare item")

    def _number(self) -> int | float:
        sign = 1
        if self._peek() == "-":
            self.pos += 1
            sign = -1
        if not (self._peek() and self._peek() in _DIGIT):
            raise _SFError("invalid number")
        start = self.pos
        is_decimal = False
        while self._peek():
            char = self._peek()
            if char in _DIGIT:
                self.pos += 1
            elif char == "." and not is_decimal:
                if self.pos - start > 12:
                    raise _SFError("decimal too long")
                is_decimal = True
                self.pos += 1
            else:
                break
            if self.pos - start > (16 if is_decimal else 15):
                raise _SFError("number too long")
        digits = self.text[start : self.pos]
        if not is_decimal:
            return sign * int(digits)
        fraction = digits.split(".", 1)[1]
        if not 1 <= len(fraction) <= 3:
            raise _SFError("invalid decimal")
        return sign * float(digits)

    def _string(self) -> str:
        self.pos += 1
        out: list[str] = []
        while not self._at_end():
            char = self.text[self.pos]
            self.pos += 1
            if char == "\\":
                escaped = self._peek()
                if escaped not in ('"', "\\"):
                    raise _SFError("invalid string escape")
                out.append(escaped)
                self.pos += 1
            elif char == '"':
                return "".join(out)
            elif not 0x20 <= ord(char) < 0x7F:
                raise _SFError("invalid string character")
            else:
                out.append(char)
        raise _SFError("unterminated string")

    def _token(self) -> _Token:
        start = self.pos
        self.pos += 1
        while self._peek() and self._peek() in _TOKEN_CHARS:
            self.pos += 1
        return _Token(self.text[start : self.pos])

    def _byte_sequence(self) -> bytes:
        self.pos += 1
        end = self.text.find(":", self.pos)
        if end < 0:
            raise _SFError("unterminated byte sequence")
        encoded = self.text[self.pos : end]
        if any(c not in _B64_CHARS for c in encoded):
            raise _SFError("invalid byte sequence")
        self.pos = end + 1
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise _SFError("invalid byte sequence") from exc

    def _boolean(self) -> bool:
        self.pos += 1
        char = self._peek()
        if char not in ("0", "1"):
            raise _SFError("invalid boolean")
        self.pos += 1
        return char == "1"


def _parse_sf_dictionary(text: str, what: str) -> dict[str, _Member]:
    parser = _SFParser(text)
    try:
        result = parser.parse_dictionary()
    except _SFError as exc:
        raise SignatureError(f"malformed {what}") from exc
    return result


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


def parse_request_signature(
    method: str,
    target_uri: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime,
    window_seconds: int = 3600,
) -> ParsedSignature:
    """Checks everything that does not need the public key, raising SignatureError(reason).

    Doing these checks first lets the server reject replays, stale requests and body tampering
    without fetching the sender's actor document. The policy mirrors Mastodon's
    ``signature_verification.rb`` for draft-cavage (so anything Mastodon accepts, we accept, and
    nothing weaker) and RFC 9421 §3.2 for the new scheme. ``target_uri`` is the public URL of
    the request as this server knows itself, because behind a reverse proxy the transport-level
    URL is not what the sender signed.
    """
    current = _as_utc(now)
    try:
        parts = _split_url(_without_fragment(target_uri))
    except ValueError as exc:
        raise SignatureError("invalid target uri") from exc

    signature_input = _header(headers, "signature-input")
    if signature_input is not None:
        return _parse_rfc9421(
            method, target_uri, parts, headers, signature_input, body, current, window_seconds
        )

    value = _header(headers, "signature")
    if value is None:
        authorization = _header(headers, "authorization")
        if authorization is not None:
            auth_scheme, _, rest = authorization.strip().partition(" ")
            if auth_scheme.lower() == "signature":
                value = rest
    if value is None:
        raise SignatureError("no signature")
    return _parse_cavage(method, parts, headers, value, body, current, window_seconds)


def verify_signature(parsed: ParsedSignature, public_key: RSAPublicKey) -> bool:
    """RSASSA-PKCS1-v1_5 with SHA-256 over parsed.signing_string; False on mismatch, never raises
    for a bad signature.

    Returning a bool (instead of raising) keeps "the key was wrong" distinguishable from "the
    request was malformed", which matters because the caller refetches a rotated key once on
    False but never does so for a SignatureError.
    """
    candidates = [parsed.signing_string]
    if parsed.legacy_signing_string is not None:
        candidates.append(parsed.legacy_signing_string)
    for data in candidates:
        try:
            public_key.verify(parsed.signature, data, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, ValueError):
            continue
        return True
    return False


# ---- draft-cavage ---------------------------------------------------------------------------

_CAVAGE_PARAM_RE = re.compile(
    r"""[ \t]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)[ \t]*=[ \t]*"""
    r"""(?:"((?:[^"\\]|\\.)*)"|([!#$%&'*+\-.^_`|~0-9A-Za-z]+))[ \t]*(,|$)"""
)


def _parse_cavage_params(value: str) -> dict[str, str]:
    """Same grammar as Mastodon's SignatureParamsParser (token = token / quoted-string).

    Keys are folded to lower case because a few implementations send ``keyid``; duplicates are
    refused so that a proxy-appended second header cannot smuggle a different keyId in.
    """
    params: dict[str, str] = {}
    pos = 0
    text = value.strip()
    while pos < len(text):
        match = _CAVAGE_PARAM_RE.match(text, pos)
        if match is None:
            raise SignatureError("malformed signature header")
        key = match.group(1).lower()
        quoted, token = match.group(2), match.group(3)
        param = re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else token
        if key in params:
            raise SignatureError(f"duplicate signature parameter: {key}")
        params[key] = param
        pos = match.end()
        if match.group(4) == "," and pos >= len(text):
            raise SignatureError("malformed signature header")
    return params


def _cavage_timestamp(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    if _INTEGER_RE.fullmatch(raw) is None:
        raise SignatureError(f"invalid {name} parameter")
    return int(raw)


def _check_legacy_digest(value: str, body: bytes) -> None:
    """``Digest`` per RFC 3230, as Mastodon reads it.

    Algorithm names are case-insensitive (bovine sends ``sha-256=``) and several digests may be
    listed; only SHA-256 is trusted, as in Mastodon.
    """
    digests: dict[str, str] = {}
    for entry in value.split(","):
        algorithm, sep, encoded = entry.strip().partition("=")
        if sep:
            digests[algorithm.strip().lower()] = encoded.strip()
    encoded_sha256 = digests.get("sha-256")
    if encoded_sha256 is None:
        raise SignatureError("digest must include SHA-256")
    try:
        claimed = base64.b64decode(encoded_sha256, validate=True)
    except binascii.Error as exc:
        raise SignatureError("digest mismatch") from exc
    if not hmac.compare_digest(claimed, hashlib.sha256(body).digest()):
        raise SignatureError("digest mismatch")


def _parse_http_date(value: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError) as exc:
        raise SignatureError("invalid date header") from exc
    return _as_utc(parsed)


def _parse_cavage(
    method: str,
    parts: SplitResult,
    headers: Mapping[str, str],
    value: str,
    body: bytes | None,
    now: datetime,
    window_seconds: int,
) -> ParsedSignature:
    params = _parse_cavage_params(value)
    key_id = params.get("keyid")
    if not key_id:
        raise SignatureError("missing keyId")
    encoded_signature = params.get("signature")
    if not encoded_signature:
        raise SignatureError("missing signature")
    # Mastodon treats an absent algorithm as hs2019 (the draft-12 default).
    algorithm = params.get("algorithm", "hs2019").lower()
    if algorithm not in (_CAVAGE_ALGORITHM, "hs2019"):
        raise SignatureError(f"unsupported algorithm: {algorithm}")
    covered = params.get("headers", "date").lower().split()
    if not covered:
        raise SignatureError("no headers covered")

    verb = method.upper()
    if "date" not in covered and "(created)" not in covered:
        raise SignatureError("date or (created) must be signed")
    # Mastodon accepts a POST covering digest without (request-target); we do
    # not: the path and host bind a signature to this server's inbox, so it
    # cannot be replayed against another one (every major server signs both).
    if "(request-target)" not in covered and (verb != "GET" or "digest" not in covered):
        raise SignatureError("(request-target) must be signed")
    if "host" not in covered:
        raise SignatureError("host must be signed")
    if (verb == "POST" or bool(body)) and "digest" not in covered:
        raise SignatureError("digest must be signed")

    created_ts = _cavage_timestamp(params, "created")
    expires_ts = _cavage_timestamp(params, "expires")
    for pseudo, ts in (("(created)", created_ts), ("(expires)", expires_ts)):
        if pseudo in covered:
            if algorithm != "hs2019":
                raise SignatureError(f"{pseudo} requires hs2019")
            if ts is None:
                raise SignatureError(f"{pseudo} signed but parameter missing")

    lines: list[str] = []
    legacy_lines: list[str] = []
    header_values: dict[str, str] = {}
    for name in covered:
        legacy: str | None = None
        if name == "(request-target)":
            line_value = f"{method.lower()} {_request_target(parts)}"
            legacy = f"{method.lower()} {_path(parts)}"
        elif name in ("(created)", "(expires)"):
            line_value = params[name[1:-1]]
        elif name.startswith("("):
            raise SignatureError(f"unsupported pseudo-header: {name}")
        else:
            header_value = _header(headers, name)
            if header_value is None:
                raise SignatureError(f"missing covered header: {name}")
            line_value = header_values[name] = header_value
            if name == "host":
                _check_host(header_value, parts)
        lines.append(f"{name}: {line_value}")
        legacy_lines.append(f"{name}: {legacy if legacy is not None else line_value}")

    if "digest" in covered:
        _check_legacy_digest(header_values["digest"], body or b"")

    created: datetime | None = None
    if "(created)" in covered and created_ts is not None:
        created = _from_timestamp(created_ts, "created")
        _check_window(created, now, window_seconds, "created")
    if "date" in covered:
        date = _parse_http_date(header_values["date"])
        _check_window(date, now, window_seconds, "date")
        created = created or date
    if expires_ts is not None and now > _from_timestamp(expires_ts, "expires"):
        raise SignatureError("signature expired")

    try:
        signature = base64.b64decode(encoded_signature.strip(), validate=True)
    except binascii.Error as exc:
        raise SignatureError("signature is not valid base64") from exc

    signing_string = _to_bytes("\n".join(lines))
    legacy_string = _to_bytes("\n".join(legacy_lines))
    return ParsedSignature(
        scheme="cavage",
        key_id=key_id,
        signing_string=signing_string,
        signature=signature,
        created=created,
        legacy_signing_string=legacy_string if legacy_string != signing_string else None,
    )


# ---- RFC 9421 -------------------------------------------------------------------------------

_CONTENT_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "sha-256": lambda data: hashlib.sha256(data).digest(),
    "sha-512": lambda data: hashlib.sha512(data).digest(),
}


def _check_content_digest(value: str, body: bytes) -> None:
    """RFC 9530: every algorithm we know must match; unknown ones are ignored, as §5 allows."""
    members = _parse_sf_dictionary(value, "content-digest")
    checked = False
    for algorithm, member in members.items():
        compute = _CONTENT_DIGESTS.get(algorithm)
        if compute is None:
            continue
        claimed = member.value
        if not isinstance(claimed, _Item) or not isinstance(claimed.value, bytes):
            raise SignatureError("malformed content-digest")
        if not hmac.compare_digest(claimed.value, compute(body)):
            raise SignatureError("content-digest mismatch")
        checked = True
    if not checked:
        raise SignatureError("unsupported content-digest algorithm")


def _derived_component(name: str, method: str, target_uri: str, parts: SplitResult) -> str:
    """RFC 9421 §2.2 derived components for a request in origin-form."""
    if name == "@method":
        return method.upper()
    if name == "@target-uri":
        return target_uri
    if name == "@authority":
        return _authority(parts)
    if name == "@scheme":
        return parts.scheme.lower()
    if name == "@path":
        return _path(parts)
    if name == "@query":
        return f"?{parts.query}"
    if name == "@request-target":
        return _request_target(parts)
    raise SignatureError(f"unsupported derived component: {name}")


def _parse_rfc9421(
    method: str,
    target_uri: str,
    parts: SplitResult,
    headers: Mapping[str, str],
    signature_input: str,
    body: bytes | None,
    now: datetime,
    window_seconds: int,
) -> ParsedSignature:
    inputs = _parse_sf_dictionary(signature_input, "Signature-Input")
    if not inputs:
        raise SignatureError("malformed Signature-Input")
    # Only the first label is considered; a later valid one must not rescue an invalid first.
    label, member = next(iter(inputs.items()))
    if not isinstance(member.value, _InnerList):
        raise SignatureError("malformed Signature-Input")
    covered = member.value
    params = covered.params

    signature_header = _header(headers, "signature")
    if signature_header is None:
        raise SignatureError("missing Signature header")
    signatures = _parse_sf_dictionary(signature_header, "Signature header")
    signature_member = signatures.get(label)
    if signature_member is None:
        raise SignatureError(f"no signature for label {label}")
    signature_item = signature_member.value
    if not isinstance(signature_item, _Item) or not isinstance(signature_item.value, bytes):
        raise SignatureError("malformed Signature header")

    alg = params.get("alg")
    if alg is not None and alg != _RFC9421_ALGORITHM:
        shown = alg if isinstance(alg, str) else "non-string value"
        raise SignatureError(f"unsupported algorithm: {shown}")
    key_id = params.get("keyid")
    if not isinstance(key_id, str) or isinstance(key_id, _Token) or not key_id:
        raise SignatureError("missing keyid")
    created_ts = params.get("created")
    # bool is an int subclass in Python but a distinct type in RFC 8941.
    if not isinstance(created_ts, int) or isinstance(created_ts, bool):
        raise SignatureError("missing created")
    created = _from_timestamp(created_ts, "created")
    _check_window(created, now, window_seconds, "created")
    if "expires" in params:
        expires_ts = params["expires"]
        if not isinstance(expires_ts, int) or isinstance(expires_ts, bool):
            raise SignatureError("invalid expires")
        if now > _from_timestamp(expires_ts, "expires"):
            raise SignatureError("signature expired")

    names: list[str] = []
    for component in covered.items:
        name = component.value
        if not isinstance(name, str) or isinstance(name, _Token) or name != name.lower():
            raise SignatureError("invalid component identifier")
        if component.params:
            raise SignatureError(f"unsupported component parameter on {name}")
        if name in names:
            raise SignatureError(f"duplicate component: {name}")
        if name == "@signature-params":
            raise SignatureError("invalid component identifier")
        names.append(name)

    if "@method" not in names or (
        "@target-uri" not in names and not ("@authority" in names and "@path" in names)
    ):
        raise SignatureError("@method and @target-uri must be signed")
    if body and "content-digest" not in names:
        raise SignatureError("content-digest must be signed")

    target = _without_fragment(target_uri)
    lines: list[str] = []
    header_values: dict[str, str] = {}
    for name in names:
        if name.startswith("@"):
            value = _derived_component(name, method, target, parts)
        else:
            header_value = _header(headers, name)
            if header_value is None:
                raise SignatureError(f"missing covered header: {name}")
            value = header_values[name] = header_value
            if name == "host":
                _check_host(header_value, parts)
        if "\n" in value or "\r" in value:
            raise SignatureError(f"invalid value for {name}")
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {member.raw}')

    if "content-digest" in names:
        _check_content_digest(header_values["content-digest"], body or b"")

    return ParsedSignature(
        scheme="rfc9421",
        key_id=key_id,
        signing_string=_to_bytes("\n".join(lines)),
        signature=signature_item.value,
        created=created,
    )
