"""The SEL protocol's documents, as a peer section sends them: checked before use.

Nothing in them is believed beyond what the signature proves: the
agreement must be the signer's, its payer one of the signer's members.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from federation.vocab import get_id, parse_time, same_origin
from models.actors import RemoteActor
from models.sel.accounts import MAX_AMOUNT
from models.sel.to_ap import UNIT
from models.urls import Urls

#: A peer's sequence number is stored in a 64-bit signed integer column.
MAX_SEQUENCE = 2**63 - 1
#: A refusal's code, as sections send it ("limit", "unknown_member"); fits its column.
REASON_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")


def host_of(uri: str) -> str:
    return urlsplit(uri).netloc


class Refusal(Exception):
    """S2 refuses; ``code`` is machine-readable, the message is for people."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Terms(NamedTuple):
    """What an incoming Agreement asks of this section, once checked."""

    uri: str
    amount: int
    #: Our member's account code (the payee).
    code: str
    #: The payer, as "code@host" of the offering section.
    remote_party: str
    name: str
    category: str
    expiry: datetime


def parse_agreement(urls: Urls, signer: RemoteActor, obj: Any) -> Terms:
    """Validate an incoming Agreement; raises Refusal with the reason."""
    if not isinstance(obj, dict) or obj.get("type") != "Agreement":
        raise Refusal("malformed", "the Offer's object is not an Agreement")
    uri = get_id(obj)
    if not uri or not same_origin(uri, signer.uri):
        raise Refusal("malformed", "the agreement's id is not on the offering section's server")
    terms = obj.get("stipulates")
    if not isinstance(terms, dict) or terms.get("action") != "transfer":
        raise Refusal("malformed", "the agreement stipulates no transfer")
    qty = terms.get("resourceQuantity")
    if not isinstance(qty, dict) or qty.get("hasUnit") != UNIT:
        raise Refusal("unit", f"the amount must be in {UNIT}s, the unit of this section")
    raw = str(qty.get("hasNumericalValue", ""))
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        raise Refusal("amount", f"the amount {raw!r} is not a positive whole number")
    amount = int(raw)
    if amount <= 0 or amount > MAX_AMOUNT:
        raise Refusal("amount", f"the amount must be between 1 and {MAX_AMOUNT} {UNIT}s")
    provider, receiver = get_id(terms.get("provider")), get_id(terms.get("receiver"))
    if not provider or host_of(provider) != host_of(signer.uri):
        raise Refusal("malformed", "the payer is not a member of the offering section")
    prefix = f"{urls.base}/sel/accounts/"
    if not receiver or not receiver.startswith(prefix):
        raise Refusal("unknown_member", "the payee is not an account of this section")
    code = receiver[len(prefix) :]
    expiry = parse_time(obj.get("endTime"))
    if expiry is None:
        raise Refusal("malformed", "the agreement has no valid expiry (endTime)")
    name = obj.get("name")
    raw_category = obj.get("category")
    category = raw_category if isinstance(raw_category, str) else "other"
    payer_code = provider.rsplit("/", 1)[-1]
    return Terms(
        uri,
        amount,
        code,
        f"{payer_code}@{host_of(signer.uri)}",
        name if isinstance(name, str) else "",
        category,
        expiry,
    )


def refusal_of(activity: dict[str, Any]) -> tuple[str | None, str]:
    """A Reject's reason code (None when it sent none that looks like one) and its
    message for people: the ``content``, without the "code: " it starts with."""
    raw = activity.get("reason")
    code = raw if isinstance(raw, str) and REASON_CODE.fullmatch(raw) else None
    content = activity.get("content")
    message = content if isinstance(content, str) else "refused"
    if code and message.startswith(f"{code}: "):
        message = message[len(code) + 2 :]
    return code, message


def accepted_sequence(activity: dict[str, Any]) -> tuple[int | None, Any]:
    """The responder's sequence number in an Accept: (usable value or None, what was sent)."""
    result = activity.get("result")
    seq = result.get("sequence") if isinstance(result, dict) else None
    if isinstance(seq, int) and not isinstance(seq, bool) and 0 < seq <= MAX_SEQUENCE:
        return seq, seq
    return None, seq
