"""Tests for federation.signatures.

Round trips alone would pass even if signer and verifier shared the same mistake, so most of
the interesting tests here build or check signatures *independently* of the module: by hand
with ``cryptography``, from the published draft-cavage-12 and RFC 9421 test vectors, and from a
frozen fixture that pins our own wire format.
"""

import base64
import functools
import hashlib
import json
import re
import string
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from federation.signatures import (
    ParsedSignature,
    SignatureError,
    content_digest_header,
    digest_header,
    http_date,
    parse_request_signature,
    sign_request,
    sign_request_rfc9421,
    verify_signature,
)

NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
KEY_ID = "https://h/users/alice#main-key"
INBOX = "https://example.com/users/bob/inbox"
CT = "application/activity+json"
BODY = b'{"type":"Follow","actor":"https://h/users/alice","object":"https://example.com/users/bob"}'
FIXTURE = (
    Path(__file__).resolve().parent.parent / "fixtures" / "signatures" / "signed_requests.json"
)

SIGNERS = {"cavage": sign_request, "rfc9421": sign_request_rfc9421}


@functools.cache
def _key(n: int) -> rsa.RSAPrivateKey:
    """Cached rather than a fixture so hypothesis tests can use it (no function-scoped fixtures)."""
    del n  # only distinguishes cache entries
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key() -> rsa.RSAPrivateKey:
    return _key(0)


@pytest.fixture
def other_key() -> rsa.RSAPrivateKey:
    return _key(1)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _pkcs1(key: rsa.RSAPrivateKey, data: bytes) -> str:
    return _b64(key.sign(data, padding.PKCS1v15(), hashes.SHA256()))


def _imf(moment: datetime) -> str:
    """Test-side IMF-fixdate via the stdlib, independent of the module's http_date."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _signed(
    scheme: str,
    method: str,
    url: str,
    body: bytes | None,
    key: rsa.RSAPrivateKey,
    extra: Mapping[str, str] | None = None,
    now: datetime = NOW,
) -> dict[str, str]:
    base = dict(extra or {})
    return {**base, **SIGNERS[scheme](method, url, base, body, KEY_ID, key, now)}


def _parse(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    now: datetime = NOW,
) -> ParsedSignature:
    return parse_request_signature(method, url, headers, body, now)


# ---------------------------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------------------------


def test_digest_helpers_match_published_values() -> None:
    # draft-cavage-12 Appendix C and RFC 9530 §2 both use this body and these values.
    body = b'{"hello": "world"}'
    assert digest_header(body) == "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
    assert content_digest_header(body) == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:"


def test_http_date_is_imf_fixdate_in_gmt() -> None:
    assert (
        http_date(datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)) == "Sun, 06 Nov 1994 08:49:37 GMT"
    )
    plus_two = timezone(timedelta(hours=2))
    assert http_date(datetime(2024, 5, 1, 14, 0, 0, tzinfo=plus_two)) == _imf(NOW)
    assert http_date(datetime(2024, 5, 1, 12, 0, 0)) == "Wed, 01 May 2024 12:00:00 GMT"


def test_signature_error_carries_reason() -> None:
    with pytest.raises(SignatureError) as info:
        _parse("POST", INBOX, {}, BODY)
    assert info.value.reason == "no signature"


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------

URLS = [
    "https://example.com/users/bob/inbox",
    "https://example.com:8443/users/bob/inbox",
    "http://localhost:8080/users/bob/outbox?page=true&min_id=3",
    "https://[2001:db8::1]:4443/inbox",
]


@pytest.mark.parametrize("scheme", sorted(SIGNERS))
@pytest.mark.parametrize("method", ["POST", "GET"])
@pytest.mark.parametrize("url", URLS)
def test_round_trip(scheme: str, method: str, url: str, key: rsa.RSAPrivateKey) -> None:
    body = BODY if method == "POST" else None
    extra = {"Content-Type": CT} if method == "POST" else {"Accept": CT}
    headers = _signed(scheme, method, url, body, key, extra)
    parsed = _parse(method, url, headers, body)
    assert parsed.scheme == scheme
    assert parsed.key_id == KEY_ID
    assert parsed.created == NOW
    assert verify_signature(parsed, key.public_key())


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://example.com/inbox", "example.com"),
        ("https://example.com:443/inbox", "example.com"),
        ("http://example.com:80/inbox", "example.com"),
        ("https://example.com:8443/inbox", "example.com:8443"),
        ("http://example.com:443/inbox", "example.com:443"),
        ("https://EXAMPLE.com/inbox", "example.com"),
    ],
)
def test_host_header_keeps_only_non_default_port(
    url: str, host: str, key: rsa.RSAPrivateKey
) -> None:
    headers = sign_request("POST", url, {"Content-Type": CT}, BODY, KEY_ID, key, NOW)
    assert headers["Host"] == host


def test_cavage_headers_added_match_mastodon(key: rsa.RSAPrivateKey) -> None:
    post = sign_request("POST", INBOX, {"Content-Type": CT}, BODY, KEY_ID, key, NOW)
    assert set(post) == {"Host", "Date", "Digest", "Signature"}
    assert post["Date"] == _imf(NOW)
    assert post["Digest"] == "SHA-256=" + _b64(hashlib.sha256(BODY).digest())
    assert 'headers="(request-target) host date digest content-type"' in post["Signature"]

    bare = sign_request("POST", INBOX, {}, BODY, KEY_ID, key, NOW)
    assert 'headers="(request-target) host date digest"' in bare["Signature"]

    get = sign_request("GET", INBOX, {"Accept": CT}, None, KEY_ID, key, NOW)
    assert set(get) == {"Host", "Date", "Signature"}
    assert 'headers="(request-target) host date accept"' in get["Signature"]

    get_bare = sign_request("GET", INBOX, {}, None, KEY_ID, key, NOW)
    assert 'headers="(request-target) host date"' in get_bare["Signature"]


def test_rfc9421_headers_added(key: rsa.RSAPrivateKey) -> None:
    post = sign_request_rfc9421("POST", INBOX, {"Content-Type": CT}, BODY, KEY_ID, key, NOW)
    assert set(post) == {"Signature-Input", "Signature", "Content-Digest", "Date"}
    assert post["Signature-Input"] == (
        'sig1=("@method" "@target-uri" "content-digest");created=1714564800;'
        f'keyid="{KEY_ID}";alg="rsa-v1_5-sha256"'
    )
    get = sign_request_rfc9421("GET", INBOX, {}, None, KEY_ID, key, NOW)
    assert "Content-Digest" not in get
    assert get["Signature-Input"].startswith('sig1=("@method" "@target-uri");')


def test_signers_refuse_key_ids_they_cannot_encode(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError):
        sign_request("GET", INBOX, {}, None, 'https://h/"evil"', key, NOW)
    with pytest.raises(ValueError):
        sign_request_rfc9421("GET", INBOX, {}, None, "https://h/\u00e9", key, NOW)
    with pytest.raises(ValueError):
        sign_request("GET", "/relative/only", {}, None, KEY_ID, key, NOW)


def test_headers_are_looked_up_case_insensitively(key: rsa.RSAPrivateKey) -> None:
    headers = _signed("cavage", "POST", INBOX, BODY, key, {"Content-Type": CT})
    lowered = {name.lower(): value for name, value in headers.items()}
    assert verify_signature(_parse("POST", INBOX, lowered, BODY), key.public_key())
    shouting = {name.upper(): value for name, value in headers.items()}
    assert verify_signature(_parse("POST", INBOX, shouting, BODY), key.public_key())
    proxy = CIMultiDictProxy(CIMultiDict(lowered))
    assert verify_signature(_parse("POST", INBOX, proxy, BODY), key.public_key())


def test_authorization_signature_header_accepted(key: rsa.RSAPrivateKey) -> None:
    headers = _signed("cavage", "POST", INBOX, BODY, key, {"Content-Type": CT})
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    assert verify_signature(_parse("POST", INBOX, headers, BODY), key.public_key())


def test_fragment_is_not_signed(key: rsa.RSAPrivateKey) -> None:
    for scheme in SIGNERS:
        headers = _signed(scheme, "GET", INBOX + "#frag", None, key)
        assert verify_signature(_parse("GET", INBOX, headers, None), key.public_key())


# ---------------------------------------------------------------------------------------------
# Test-side draft-cavage signer (independent of the module's sign functions)
# ---------------------------------------------------------------------------------------------


def mastodon_cavage(
    key: rsa.RSAPrivateKey,
    *,
    method: str = "POST",
    path: str = "/users/bob/inbox",
    host: str = "example.com",
    date: datetime = NOW,
    body: bytes | None = BODY,
    covered: tuple[str, ...] | None = None,
    key_id: str | None = KEY_ID,
    algorithm: str | None = "rsa-sha256",
    digest: str | None = None,
    extra_params: str = "",
    pseudo: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Builds a request the way Mastodon's Request#signature formats it, by hand."""
    headers = {"Host": host, "Date": _imf(date)}
    if method == "POST":
        headers["Content-Type"] = CT
    else:
        headers["Accept"] = CT
    if body is not None:
        headers["Digest"] = digest or "SHA-256=" + _b64(hashlib.sha256(body).digest())
    if covered is None:
        if method == "POST":
            covered = ("(request-target)", "host", "date", "digest", "content-type")
        else:
            covered = ("(request-target)", "host", "date", "accept")
    lowered = {name.lower(): value for name, value in headers.items()}
    lines = []
    for name in covered:
        if name == "(request-target)":
            lines.append(f"(request-target): {method.lower()} {path}")
        elif pseudo is not None and name in pseudo:
            lines.append(f"{name}: {pseudo[name]}")
        else:
            lines.append(f"{name}: {lowered[name]}")
    signature = _pkcs1(key, "\n".join(lines).encode())
    params = []
    if key_id is not None:
        params.append(f'keyId="{key_id}"')
    if algorithm is not None:
        params.append(f'algorithm="{algorithm}"')
    params.append(f'headers="{" ".join(covered)}"')
    if extra_params:
        params.append(extra_params)
    params.append(f'signature="{signature}"')
    headers["Signature"] = ",".join(params)
    return headers


def test_hand_built_mastodon_cavage_verifies(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key)
    assert headers["Signature"].startswith(
        'keyId="https://h/users/alice#main-key",algorithm="rsa-sha256",'
        'headers="(request-target) host date digest content-type",signature="'
    )
    parsed = _parse("POST", INBOX, headers, BODY)
    assert parsed.signing_string == (
        b"(request-target): post /users/bob/inbox\n"
        b"host: example.com\n"
        b"date: Wed, 01 May 2024 12:00:00 GMT\n"
        b"digest: SHA-256=" + _b64(hashlib.sha256(BODY).digest()).encode() + b"\n"
        b"content-type: application/activity+json"
    )
    assert parsed.key_id == KEY_ID
    assert verify_signature(parsed, key.public_key())


def test_hand_built_cavage_get_with_port_and_query(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(
        key, method="GET", path="/users/bob/outbox?page=true", host="example.com:8443", body=None
    )
    url = "https://example.com:8443/users/bob/outbox?page=true"
    assert verify_signature(_parse("GET", url, headers, None), key.public_key())


def test_legacy_mastodon_request_target_without_query_accepted(key: rsa.RSAPrivateKey) -> None:
    # Mastodon < 4.0 dropped the query string from (request-target); Mastodon still accepts it.
    headers = mastodon_cavage(key, method="GET", path="/users/bob/outbox", body=None)
    parsed = _parse("GET", "https://example.com/users/bob/outbox?page=true", headers, None)
    assert parsed.legacy_signing_string is not None
    assert verify_signature(parsed, key.public_key())
    # ...but a query-less signature cannot be moved to another path.
    parsed = _parse("GET", "https://example.com/users/eve/outbox?page=true", headers, None)
    assert not verify_signature(parsed, key.public_key())


def test_draft_cavage_appendix_c3_vector() -> None:
    """Published vector from draft-cavage-http-signatures-12 Appendix C.3 (All Headers Test)."""
    public_key = serialization.load_pem_public_key(
        b"-----BEGIN PUBLIC KEY-----\n"
        b"MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDCFENGw33yGihy92pDjZQhl0C3\n"
        b"6rPJj+CvfSC8+q28hxA161QFNUd13wuCTUcq0Qd2qsBe/2hFyc2DCJJg0h1L78+6\n"
        b"Z4UMR7EOcpfdUE9Hf3m/hs+FUR45uBJeDK1HSFHD8bHKD6kv8FPGfJTotc+2xjJw\n"
        b"oYi+1hqp1fIekaxsyQIDAQAB\n"
        b"-----END PUBLIC KEY-----\n"
    )
    assert isinstance(public_key, rsa.RSAPublicKey)
    headers = {
        "Host": "example.com",
        "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
        "Content-Type": "application/json",
        "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
        "Content-Length": "18",
        "Authorization": (
            'Signature keyId="Test",algorithm="rsa-sha256",'
            'headers="(request-target) host date content-type digest content-length",'
            'signature="vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs'
            "8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUHFv120V01IL+TAD48XaERZF"
            'ukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="'
        ),
    }
    parsed = parse_request_signature(
        "POST",
        "https://example.com/foo?param=value&pet=dog",
        headers,
        b'{"hello": "world"}',
        datetime(2014, 1, 5, 21, 31, 40, tzinfo=UTC),
    )
    assert parsed.key_id == "Test"
    assert parsed.signing_string.startswith(b"(request-target): post /foo?param=value&pet=dog\n")
    assert verify_signature(parsed, public_key)


# ---------------------------------------------------------------------------------------------
# Test-side RFC 9421 signer
# ---------------------------------------------------------------------------------------------

RFC_TARGET = "https://example.com/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_DIGEST_512 = (
    "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+"
    "AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"
)
RFC_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": RFC_DIGEST_512,
    "Content-Length": "18",
}
RFC_CREATED = 1618884473
RFC_NOW = datetime.fromtimestamp(RFC_CREATED, UTC)


def rfc9421_hand(
    key: rsa.RSAPrivateKey, lines: list[str], params: str, label: str = "sig1"
) -> dict[str, str]:
    """Signature-Input/Signature pair whose base is exactly ``lines`` plus @signature-params."""
    base = "\n".join([*lines, f'"@signature-params": {params}'])
    return {
        "Signature-Input": f"{label}={params}",
        "Signature": f"{label}=:{_pkcs1(key, base.encode())}:",
    }


def test_hand_built_rfc9421_appendix_b_style_request(key: rsa.RSAPrivateKey) -> None:
    params = (
        '("@method" "@authority" "@path" "@query" "content-digest" "content-length" '
        f'"content-type");created={RFC_CREATED};keyid="test-key-rsa";alg="rsa-v1_5-sha256"'
    )
    expected_base = (
        '"@method": POST\n'
        '"@authority": example.com\n'
        '"@path": /foo\n'
        '"@query": ?param=Value&Pet=dog\n'
        f'"content-digest": {RFC_DIGEST_512}\n'
        '"content-length": 18\n'
        '"content-type": application/json\n'
        f'"@signature-params": {params}'
    )
    lines = expected_base.split("\n")[:-1]
    headers = {**RFC_HEADERS, **rfc9421_hand(key, lines, params, label="sig-b21")}
    parsed = parse_request_signature("POST", RFC_TARGET, headers, RFC_BODY, RFC_NOW)
    assert parsed.scheme == "rfc9421"
    assert parsed.key_id == "test-key-rsa"
    assert parsed.created == RFC_NOW
    assert parsed.signing_string == expected_base.encode()
    assert verify_signature(parsed, key.public_key())


def test_hand_built_rfc9421_mastodon_style(key: rsa.RSAPrivateKey) -> None:
    url = "https://example.com:8443/users/bob/inbox"
    digest = "sha-256=:" + _b64(hashlib.sha256(BODY).digest()) + ":"
    params = f'("@method" "@target-uri" "content-digest");created=1714564800;keyid="{KEY_ID}"'
    lines = ['"@method": POST', f'"@target-uri": {url}', f'"content-digest": {digest}']
    headers = {"Content-Digest": digest, **rfc9421_hand(key, lines, params)}
    assert verify_signature(_parse("POST", url, headers, BODY), key.public_key())


def test_rfc9421_appendix_b23_published_signature_base() -> None:
    """RFC 9421 Appendix B.2.3 (full coverage, rsa-pss-sha512, no alg parameter).

    We only verify RSASSA-PKCS1-v1_5, so the module's verifier must say False here without
    raising; but the published PSS signature verifying over *our* signature base proves the
    base is reconstructed byte for byte as the RFC does it.
    """
    public_key = serialization.load_pem_public_key(
        b"-----BEGIN PUBLIC KEY-----\n"
        b"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2\n"
        b"+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+\n"
        b"oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq\n"
        b"gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W\n"
        b"Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4\n"
        b"aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI\n"
        b"2wIDAQAB\n"
        b"-----END PUBLIC KEY-----\n"
    )
    assert isinstance(public_key, rsa.RSAPublicKey)
    headers = {
        **RFC_HEADERS,
        "Signature-Input": (
            'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" '
            '"content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"'
        ),
        "Signature": (
            "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxF"
            "keGt683+qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPV"
            "iV7KsLNmvKiLJH1pFkh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A"
            "9BmzhuzF8Eim5f8ui9eH8LZH896+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIzts"
            "DZKEgM4cUA==:"
        ),
    }
    parsed = parse_request_signature("POST", RFC_TARGET, headers, RFC_BODY, RFC_NOW)
    public_key.verify(
        parsed.signature,
        parsed.signing_string,
        padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64),
        hashes.SHA512(),
    )
    assert verify_signature(parsed, public_key) is False


# ---------------------------------------------------------------------------------------------
# Test-side verifiers for what the module emits
# ---------------------------------------------------------------------------------------------


def hand_verify_cavage(
    method: str, url: str, headers: Mapping[str, str], body: bytes, public_key: rsa.RSAPublicKey
) -> None:
    match = re.fullmatch(
        r'keyId="([^"]+)",algorithm="rsa-sha256",headers="([^"]+)",signature="([^"]+)"',
        headers["Signature"],
    )
    assert match is not None
    assert match.group(1) == KEY_ID
    assert headers["Digest"] == "SHA-256=" + _b64(hashlib.sha256(body).digest())
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lowered = {name.lower(): value for name, value in headers.items()}
    lines = [
        f"{name}: {method.lower()} {target}"
        if name == "(request-target)"
        else f"{name}: {lowered[name]}"
        for name in match.group(2).split(" ")
    ]
    public_key.verify(
        base64.b64decode(match.group(3)),
        "\n".join(lines).encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


def hand_verify_rfc9421(
    method: str, url: str, headers: Mapping[str, str], body: bytes, public_key: rsa.RSAPublicKey
) -> None:
    match = re.fullmatch(
        r'sig1=(\("@method" "@target-uri" "content-digest"\);created=(\d+);keyid="([^"]+)";'
        r'alg="rsa-v1_5-sha256")',
        headers["Signature-Input"],
    )
    assert match is not None
    assert match.group(3) == KEY_ID
    digest = "sha-256=:" + _b64(hashlib.sha256(body).digest()) + ":"
    assert headers["Content-Digest"] == digest
    base = (
        f'"@method": {method}\n"@target-uri": {url}\n"content-digest": {digest}\n'
        f'"@signature-params": {match.group(1)}'
    )
    sig = re.fullmatch(r"sig1=:([A-Za-z0-9+/=]+):", headers["Signature"])
    assert sig is not None
    public_key.verify(
        base64.b64decode(sig.group(1)), base.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


@pytest.mark.parametrize("url", URLS)
def test_module_cavage_output_verifies_with_hand_verifier(url: str, key: rsa.RSAPrivateKey) -> None:
    headers = _signed("cavage", "POST", url, BODY, key, {"Content-Type": CT})
    hand_verify_cavage("POST", url, headers, BODY, key.public_key())


@pytest.mark.parametrize("url", URLS)
def test_module_rfc9421_output_verifies_with_hand_verifier(
    url: str, key: rsa.RSAPrivateKey
) -> None:
    headers = _signed("rfc9421", "POST", url, BODY, key, {"Content-Type": CT})
    hand_verify_rfc9421("POST", url, headers, BODY, key.public_key())


# ---------------------------------------------------------------------------------------------
# Frozen fixture
# ---------------------------------------------------------------------------------------------


def _fixture() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text())
    return data


@pytest.mark.parametrize("name", [r["name"] for r in _fixture()["requests"]])
def test_fixed_vector_still_verifies_and_reproduces(name: str) -> None:
    data = _fixture()
    request = next(r for r in data["requests"] if r["name"] == name)
    private_key = serialization.load_pem_private_key(data["private_key_pem"].encode(), None)
    public_key = serialization.load_pem_public_key(data["public_key_pem"].encode())
    assert isinstance(private_key, rsa.RSAPrivateKey)
    assert isinstance(public_key, rsa.RSAPublicKey)
    now = datetime.fromisoformat(data["now"])
    body = None if request["body"] is None else request["body"].encode()
    headers = {**request["request_headers"], **request["added_headers"]}

    parsed = parse_request_signature(request["method"], request["url"], headers, body, now)
    assert parsed.scheme == request["scheme"]
    assert parsed.key_id == data["key_id"]
    assert parsed.signing_string == request["signing_string"].encode()
    assert verify_signature(parsed, public_key)

    # PKCS#1 v1.5 is deterministic, so re-signing must give the stored headers byte for byte.
    signer = SIGNERS[request["scheme"]]
    again = signer(
        request["method"],
        request["url"],
        request["request_headers"],
        body,
        data["key_id"],
        private_key,
        now,
    )
    assert again == request["added_headers"]


# ---------------------------------------------------------------------------------------------
# Failures: draft-cavage
# ---------------------------------------------------------------------------------------------


def test_tampered_body_is_digest_mismatch(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key)
    with pytest.raises(SignatureError, match="^digest mismatch$"):
        _parse("POST", INBOX, headers, BODY + b" ")


@pytest.mark.parametrize("scheme", sorted(SIGNERS))
def test_tampered_signature_fails_verification(scheme: str, key: rsa.RSAPrivateKey) -> None:
    headers = _signed(scheme, "POST", INBOX, BODY, key, {"Content-Type": CT})
    parsed = _parse("POST", INBOX, headers, BODY)
    flipped = bytes([parsed.signature[0] ^ 0x01]) + parsed.signature[1:]
    tampered = ParsedSignature(
        parsed.scheme, parsed.key_id, parsed.signing_string, flipped, parsed.created
    )
    assert verify_signature(tampered, key.public_key()) is False
    truncated = ParsedSignature(
        parsed.scheme, parsed.key_id, parsed.signing_string, parsed.signature[:-1], parsed.created
    )
    assert verify_signature(truncated, key.public_key()) is False


@pytest.mark.parametrize("scheme", sorted(SIGNERS))
def test_tampered_covered_header_fails_verification(scheme: str, key: rsa.RSAPrivateKey) -> None:
    headers = _signed(scheme, "POST", INBOX, BODY, key, {"Content-Type": CT})
    parsed = _parse("POST", "https://example.com/users/eve/inbox", headers, BODY)
    assert verify_signature(parsed, key.public_key()) is False


@pytest.mark.parametrize("scheme", sorted(SIGNERS))
def test_wrong_key_fails_verification(
    scheme: str, key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey
) -> None:
    headers = _signed(scheme, "POST", INBOX, BODY, key, {"Content-Type": CT})
    assert verify_signature(_parse("POST", INBOX, headers, BODY), other_key.public_key()) is False


def test_missing_key_id(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureError, match="^missing keyId$"):
        _parse("POST", INBOX, mastodon_cavage(key, key_id=None), BODY)


def test_missing_signature_param(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key)
    headers["Signature"] = re.sub(r',signature="[^"]*"', "", headers["Signature"])
    with pytest.raises(SignatureError, match="^missing signature$"):
        _parse("POST", INBOX, headers, BODY)


@pytest.mark.parametrize("algorithm", ["rsa-sha512", "hmac-sha256", "ecdsa-sha256"])
def test_unsupported_algorithm(algorithm: str, key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureError, match="^unsupported algorithm"):
        _parse("POST", INBOX, mastodon_cavage(key, algorithm=algorithm), BODY)


def test_absent_algorithm_accepted(key: rsa.RSAPrivateKey) -> None:
    parsed = _parse("POST", INBOX, mastodon_cavage(key, algorithm=None), BODY)
    assert verify_signature(parsed, key.public_key())


def test_missing_covered_header(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key)
    del headers["Content-Type"]
    with pytest.raises(SignatureError, match="^missing covered header: content-type$"):
        _parse("POST", INBOX, headers, BODY)


def test_digest_must_be_covered_on_post(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key, covered=("(request-target)", "host", "date", "content-type"))
    with pytest.raises(SignatureError, match="^digest must be signed$"):
        _parse("POST", INBOX, headers, BODY)


def test_digest_must_be_covered_on_post_even_without_body(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key, body=None, covered=("(request-target)", "host", "date"))
    with pytest.raises(SignatureError, match="^digest must be signed$"):
        _parse("POST", INBOX, headers, None)


def test_host_must_be_covered_on_get(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key, method="GET", body=None, covered=("(request-target)", "date"))
    with pytest.raises(SignatureError, match="^host must be signed$"):
        _parse("GET", INBOX, headers, None)


def test_request_target_must_be_covered(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key, method="GET", body=None, covered=("host", "date"))
    with pytest.raises(SignatureError, match=r"^\(request-target\) must be signed$"):
        _parse("GET", INBOX, headers, None)


def test_default_headers_param_is_date_only_and_too_weak(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key, covered=("date",))
    headers["Signature"] = headers["Signature"].replace(',headers="date"', "")
    with pytest.raises(SignatureError, match="must be signed"):
        _parse("POST", INBOX, headers, BODY)


def test_date_two_hours_old(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key, date=NOW - timedelta(hours=2))
    with pytest.raises(SignatureError, match="^date too far in the past$"):
        _parse("POST", INBOX, headers, BODY)


def test_date_two_hours_in_future(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key, date=NOW + timedelta(hours=2))
    with pytest.raises(SignatureError, match="^date in the future$"):
        _parse("POST", INBOX, headers, BODY)


def test_date_within_window_accepted(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key, date=NOW - timedelta(minutes=59))
    assert verify_signature(_parse("POST", INBOX, headers, BODY), key.public_key())
    with pytest.raises(SignatureError, match="^date too far in the past$"):
        parse_request_signature("POST", INBOX, headers, BODY, NOW, window_seconds=60)


def test_unparseable_date(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key)
    headers["Date"] = "yesterday-ish"
    with pytest.raises(SignatureError, match="^invalid date header$"):
        _parse("POST", INBOX, headers, BODY)


def test_no_signature_at_all() -> None:
    headers = {"Host": "example.com", "Date": _imf(NOW), "Authorization": "Bearer abc"}
    with pytest.raises(SignatureError, match="^no signature$"):
        _parse("POST", INBOX, headers, BODY)


def test_lowercase_digest_algorithm_accepted(key: rsa.RSAPrivateKey) -> None:
    # bovine sends 'sha-256=' rather than 'SHA-256='.
    headers = mastodon_cavage(key, digest="sha-256=" + _b64(hashlib.sha256(BODY).digest()))
    assert verify_signature(_parse("POST", INBOX, headers, BODY), key.public_key())


def test_multiple_digests_need_sha256(key: rsa.RSAPrivateKey) -> None:
    sha512 = "SHA-512=" + _b64(hashlib.sha512(BODY).digest())
    sha256 = "SHA-256=" + _b64(hashlib.sha256(BODY).digest())
    headers = mastodon_cavage(key, digest=f"{sha512}, {sha256}")
    assert verify_signature(_parse("POST", INBOX, headers, BODY), key.public_key())
    with pytest.raises(SignatureError, match="SHA-256"):
        _parse("POST", INBOX, mastodon_cavage(key, digest=sha512), BODY)


def test_hs2019_accepted(key: rsa.RSAPrivateKey) -> None:
    parsed = _parse("POST", INBOX, mastodon_cavage(key, algorithm="hs2019"), BODY)
    assert verify_signature(parsed, key.public_key())


def _hs2019_created(key: rsa.RSAPrivateKey, created: datetime, expires: datetime) -> dict[str, str]:
    created_ts, expires_ts = int(created.timestamp()), int(expires.timestamp())
    return mastodon_cavage(
        key,
        algorithm="hs2019",
        covered=("(request-target)", "(created)", "(expires)", "host", "digest"),
        extra_params=f"created={created_ts},expires={expires_ts}",
        pseudo={"(created)": str(created_ts), "(expires)": str(expires_ts)},
    )


def test_hs2019_created_and_expires_pseudo_headers(key: rsa.RSAPrivateKey) -> None:
    created = NOW - timedelta(seconds=30)
    headers = _hs2019_created(key, created, NOW + timedelta(minutes=5))
    parsed = _parse("POST", INBOX, headers, BODY)
    assert parsed.created == created
    assert b"\n(created): " in parsed.signing_string
    assert verify_signature(parsed, key.public_key())


def test_cavage_expired(key: rsa.RSAPrivateKey) -> None:
    headers = _hs2019_created(key, NOW - timedelta(minutes=10), NOW - timedelta(minutes=5))
    with pytest.raises(SignatureError, match="^signature expired$"):
        _parse("POST", INBOX, headers, BODY)


def test_created_pseudo_header_refused_with_rsa_sha256(key: rsa.RSAPrivateKey) -> None:
    headers = _hs2019_created(key, NOW, NOW + timedelta(minutes=5))
    headers["Signature"] = headers["Signature"].replace(
        'algorithm="hs2019"', 'algorithm="rsa-sha256"'
    )
    with pytest.raises(SignatureError, match="requires hs2019"):
        _parse("POST", INBOX, headers, BODY)


def test_malformed_signature_header(key: rsa.RSAPrivateKey) -> None:
    for bad in ['keyId="unterminated', "keyId", 'keyId="a" extra', 'keyId="a",']:
        with pytest.raises(SignatureError, match="^malformed signature header$"):
            _parse("POST", INBOX, {**mastodon_cavage(key), "Signature": bad}, BODY)


def test_duplicate_signature_params_refused(key: rsa.RSAPrivateKey) -> None:
    headers = mastodon_cavage(key)
    headers["Signature"] += ',keyId="https://evil/actor#main-key"'
    with pytest.raises(SignatureError, match="^duplicate signature parameter: keyid$"):
        _parse("POST", INBOX, headers, BODY)


# ---------------------------------------------------------------------------------------------
# Failures: RFC 9421
# ---------------------------------------------------------------------------------------------


def _rfc_request(
    key: rsa.RSAPrivateKey,
    *,
    components: tuple[str, ...] = ("@method", "@target-uri", "content-digest"),
    params: str = f';created=1714564800;keyid="{KEY_ID}";alg="rsa-v1_5-sha256"',
    url: str = INBOX,
    body: bytes = BODY,
    content_digest: str | None = None,
) -> dict[str, str]:
    digest = content_digest or "sha-256=:" + _b64(hashlib.sha256(body).digest()) + ":"
    values = {
        "@method": "POST",
        "@target-uri": url,
        "@authority": urlsplit(url).netloc,
        "@path": urlsplit(url).path,
        "content-digest": digest,
    }
    lines = [f'"{name}": {values[name]}' for name in components]
    inner = " ".join(f'"{name}"' for name in components)
    return {"Content-Digest": digest, **rfc9421_hand(key, lines, f"({inner}){params}")}


def test_rfc9421_hand_request_baseline(key: rsa.RSAPrivateKey) -> None:
    assert verify_signature(_parse("POST", INBOX, _rfc_request(key), BODY), key.public_key())


def test_rfc9421_authority_and_path_instead_of_target_uri(key: rsa.RSAPrivateKey) -> None:
    headers = _rfc_request(key, components=("@method", "@authority", "@path", "content-digest"))
    assert verify_signature(_parse("POST", INBOX, headers, BODY), key.public_key())


def test_rfc9421_missing_created(key: rsa.RSAPrivateKey) -> None:
    headers = _rfc_request(key, params=f';keyid="{KEY_ID}";alg="rsa-v1_5-sha256"')
    with pytest.raises(SignatureError, match="^missing created$"):
        _parse("POST", INBOX, headers, BODY)


def test_rfc9421_missing_keyid(key: rsa.RSAPrivateKey) -> None:
    headers = _rfc_request(key, params=';created=1714564800;alg="rsa-v1_5-sha256"')
    with pytest.raises(SignatureError, match="^missing keyid$"):
        _parse("POST", INBOX, headers, BODY)


def test_rfc9421_content_digest_mismatch(key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(SignatureError, match="^content-digest mismatch$"):
        _parse("POST", INBOX, _rfc_request(key), BODY + b"!")


def test_rfc9421_sha512_content_digest(key: rsa.RSAPrivateKey) -> None:
    digest = "sha-512=:" + _b64(hashlib.sha512(BODY).digest()) + ":"
    headers = _rfc_request(key, content_digest=digest)
    assert verify_signature(_parse("POST", INBOX, headers, BODY), key.public_key())
    with pytest.raises(SignatureError, match="^content-digest mismatch$"):
        _parse("POST", INBOX, headers, BODY[:-1])


def test_rfc9421_unknown_content_digest_algorithm(key: rsa.RSAPrivateKey) -> None:
    headers = _rfc_request(key, content_digest="md5=:AAAA:")
    with pytest.raises(SignatureError, match="^unsupported content-digest algorithm$"):
        _parse("POST", INBOX, headers, BODY)


def test_rfc9421_expired(key: rsa.RSAPrivateKey) -> None:
    params = f';created=1714564500;expires=1714564700;keyid="{KEY_ID}"'
    with pytest.raises(SignatureError, match="^signature expired$"):
        _parse("POST", INBOX, _rfc_request(key, params=params), BODY)
    params = f';created=1714564500;expires=1714564900;keyid="{KEY_ID}"'
    assert verify_signature(
        _parse("POST", INBOX, _rfc_request(key, params=params), BODY), key.public_key()
    )


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(-7200, "^created too far in the past$"), (7200, "^created in the future$")],
)
def test_rfc9421_created_window(offset: int, reason: str, key: rsa.RSAPrivateKey) -> None:
    params = f';created={1714564800 + offset};keyid="{KEY_ID}"'
    with pytest.raises(SignatureError, match=reason):
        _parse("POST", INBOX, _rfc_request(key, params=params), BODY)


@pytest.mark.parametrize("alg", ["rsa-pss-sha512", "ecdsa-p256-sha256", "ed25519", "hmac-sha256"])
def test_rfc9421_unsupported_alg(alg: str, key: rsa.RSAPrivateKey) -> None:
    params = f';created=1714564800;keyid="{KEY_ID}";alg="{alg}"'
    with pytest.raises(SignatureError, match="^unsupported algorithm"):
        _parse("POST", INBOX, _rfc_request(key, params=params), BODY)


def test_rfc9421_must_cover_method_and_target(key: rsa.RSAPrivateKey) -> None:
    for components in [("@target-uri", "content-digest"), ("@method", "@path", "content-digest")]:
        with pytest.raises(SignatureError, match="^@method and @target-uri must be signed$"):
            _parse("POST", INBOX, _rfc_request(key, components=components), BODY)


def test_rfc9421_content_digest_must_be_covered_with_body(key: rsa.RSAPrivateKey) -> None:
    headers = _rfc_request(key, components=("@method", "@target-uri"))
    with pytest.raises(SignatureError, match="^content-digest must be signed$"):
        _parse("POST", INBOX, headers, BODY)


def test_rfc9421_missing_covered_header(key: rsa.RSAPrivateKey) -> None:
    headers = _rfc_request(key)
    del headers["Content-Digest"]
    with pytest.raises(SignatureError, match="^missing covered header: content-digest$"):
        _parse("POST", INBOX, headers, BODY)


def test_rfc9421_first_label_is_the_one_that_counts(key: rsa.RSAPrivateKey) -> None:
    good = _rfc_request(key)
    bad = _rfc_request(key, params=f';keyid="{KEY_ID}"')  # no created
    good_input = good["Signature-Input"].removeprefix("sig1=")
    good_sig = good["Signature"].removeprefix("sig1=")
    bad_input = bad["Signature-Input"].removeprefix("sig1=")
    bad_sig = bad["Signature"].removeprefix("sig1=")

    first_good = {
        "Content-Digest": good["Content-Digest"],
        "Signature-Input": f"a={good_input}, b={bad_input}",
        "Signature": f"b={bad_sig}, a={good_sig}",
    }
    assert verify_signature(_parse("POST", INBOX, first_good, BODY), key.public_key())

    first_bad = {
        "Content-Digest": good["Content-Digest"],
        "Signature-Input": f"a={bad_input}, b={good_input}",
        "Signature": f"a={bad_sig}, b={good_sig}",
    }
    with pytest.raises(SignatureError, match="^missing created$"):
        _parse("POST", INBOX, first_bad, BODY)


def test_rfc9421_multiple_header_lines_are_joined(key: rsa.RSAPrivateKey) -> None:
    good = _rfc_request(key)
    other = _rfc_request(key, params=f';created=1714564800;keyid="{KEY_ID}";nonce="x"')
    headers = CIMultiDict(
        [
            ("Content-Digest", good["Content-Digest"]),
            ("Signature-Input", good["Signature-Input"]),
            ("signature-input", other["Signature-Input"].replace("sig1=", "sig2=")),
            ("Signature", good["Signature"]),
            ("SIGNATURE", other["Signature"].replace("sig1=", "sig2=")),
        ]
    )
    parsed = _parse("POST", INBOX, CIMultiDictProxy(headers), BODY)
    assert verify_signature(parsed, key.public_key())


def test_rfc9421_signature_label_missing(key: rsa.RSAPrivateKey) -> None:
    headers = _rfc_request(key)
    headers["Signature"] = headers["Signature"].replace("sig1=", "other=")
    with pytest.raises(SignatureError, match="^no signature for label sig1$"):
        _parse("POST", INBOX, headers, BODY)
    del headers["Signature"]
    with pytest.raises(SignatureError, match="^missing Signature header$"):
        _parse("POST", INBOX, headers, BODY)


@pytest.mark.parametrize(
    "signature_input",
    [
        'sig1=("@method" "@target-uri";created=1',
        "sig1=(@method);created=1",
        'sig1="@method";created=1',
        'sig1=("@method" "@target-uri"),',
        'Sig1=("@method");created=1',
    ],
)
def test_rfc9421_malformed_signature_input(signature_input: str, key: rsa.RSAPrivateKey) -> None:
    headers = {**_rfc_request(key), "Signature-Input": signature_input}
    with pytest.raises(SignatureError, match="Signature-Input|component"):
        _parse("POST", INBOX, headers, BODY)


def test_rfc9421_component_parameters_refused(key: rsa.RSAPrivateKey) -> None:
    params = f'("@method" "@target-uri" "content-digest";sf);created=1714564800;keyid="{KEY_ID}"'
    headers = {**_rfc_request(key), "Signature-Input": f"sig1={params}"}
    with pytest.raises(SignatureError, match="^unsupported component parameter"):
        _parse("POST", INBOX, headers, BODY)


def test_rfc9421_duplicate_component_refused(key: rsa.RSAPrivateKey) -> None:
    headers = _rfc_request(key, components=("@method", "@method", "@target-uri", "content-digest"))
    with pytest.raises(SignatureError, match="^duplicate component: @method$"):
        _parse("POST", INBOX, headers, BODY)


def test_rfc9421_derived_components(key: rsa.RSAPrivateKey) -> None:
    url = "http://Example.com:8080/a%20b/c?x=1&y=2"
    params = (
        '("@method" "@target-uri" "@authority" "@scheme" "@path" "@query" "@request-target");'
        f'created=1714564800;keyid="{KEY_ID}"'
    )
    lines = [
        '"@method": GET',
        f'"@target-uri": {url}',
        '"@authority": example.com:8080',
        '"@scheme": http',
        '"@path": /a%20b/c',
        '"@query": ?x=1&y=2',
        '"@request-target": /a%20b/c?x=1&y=2',
    ]
    parsed = _parse("GET", url, rfc9421_hand(key, lines, params), None)
    assert verify_signature(parsed, key.public_key())
    empty_query = rfc9421_hand(
        key,
        ['"@method": GET', f'"@target-uri": {INBOX}', '"@query": ?'],
        f'("@method" "@target-uri" "@query");created=1714564800;keyid="{KEY_ID}"',
    )
    assert verify_signature(_parse("GET", INBOX, empty_query, None), key.public_key())


def test_rfc9421_header_values_trimmed_and_joined(key: rsa.RSAPrivateKey) -> None:
    params = f'("@method" "@target-uri" "cache-control");created=1714564800;keyid="{KEY_ID}"'
    lines = [
        '"@method": GET',
        f'"@target-uri": {INBOX}',
        '"cache-control": max-age=60, must-revalidate',
    ]
    headers = CIMultiDict(rfc9421_hand(key, lines, params))
    headers.add("Cache-Control", "  max-age=60 ")
    headers.add("Cache-Control", "must-revalidate\t")
    assert verify_signature(_parse("GET", INBOX, CIMultiDictProxy(headers), None), key.public_key())


# ---------------------------------------------------------------------------------------------
# Property test
# ---------------------------------------------------------------------------------------------

_SEGMENT = st.text(
    alphabet=string.ascii_letters + string.digits + "-._~%@", min_size=1, max_size=12
)
_QUERY = st.text(alphabet=string.ascii_letters + string.digits + "=&-._~", min_size=1, max_size=20)


@settings(max_examples=50, deadline=None)
@given(
    body=st.binary(min_size=1, max_size=2048),
    segments=st.lists(_SEGMENT, max_size=4),
    query=st.none() | _QUERY,
    port=st.none() | st.integers(min_value=1, max_value=65535),
    scheme=st.sampled_from(sorted(SIGNERS)),
    data=st.data(),
)
def test_property_sign_parse_verify_and_body_tamper(
    body: bytes,
    segments: list[str],
    query: str | None,
    port: int | None,
    scheme: str,
    data: st.DataObject,
) -> None:
    key = _key(0)
    authority = "example.com" if port is None else f"example.com:{port}"
    url = f"https://{authority}/" + "/".join(segments) + (f"?{query}" if query else "")
    headers = _signed(scheme, "POST", url, body, key, {"Content-Type": CT})
    parsed = _parse("POST", url, headers, body)
    assert verify_signature(parsed, key.public_key())

    index = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    mask = data.draw(st.integers(min_value=1, max_value=255))
    tampered = body[:index] + bytes([body[index] ^ mask]) + body[index + 1 :]
    with pytest.raises(SignatureError, match="digest mismatch"):
        _parse("POST", url, headers, tampered)


# ---- the signed host is this server's ---------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "signed_for", "accepted"),
    [
        ("https://lome.example/inbox", "https://lome.example/inbox", True),
        ("https://lome.example/inbox", "https://LOME.example:443/inbox", True),
        ("http://127.0.0.1:8002/inbox", "http://127.0.0.1:8002/inbox", True),
        ("https://lome.example/inbox", "https://other.example/inbox", False),
        ("https://lome.example/inbox", "https://lome.example:8443/inbox", False),
        ("http://127.0.0.1:8002/inbox", "http://127.0.0.1:8003/inbox", False),
    ],
)
def test_signed_host_must_be_this_server(target: str, signed_for: str, accepted: bool) -> None:
    """A signature made for another server's inbox (same path) is refused here, before any
    key fetch, like an RFC 9421 @authority bound to this server."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    body = b'{"type":"Follow"}'
    now = datetime.now(UTC)
    headers = {"Content-Type": "application/activity+json"}
    headers.update(sign_request("POST", signed_for, headers, body, "https://a.example/k", key, now))
    if accepted:
        parsed = parse_request_signature("POST", target, headers, body, now)
        assert verify_signature(parsed, key.public_key())
    else:
        with pytest.raises(SignatureError, match="signed for host"):
            parse_request_signature("POST", target, headers, body, now)
