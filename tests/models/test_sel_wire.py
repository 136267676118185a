"""A refusal on the wire: "code: message" in a Reject's content, the code alone in its
reason, as every coopnet version has sent it; read back into code and message."""

from __future__ import annotations

from models.sel.from_ap import refusal_of
from models.sel.to_ap import refusal_content


def test_a_refusal_is_sent_as_code_then_message() -> None:
    assert refusal_content("limit", "'bob' would go above") == "limit: 'bob' would go above"
    assert refusal_content(None, "not today") == "not today"
    assert refusal_content("limit", None) == "limit"
    assert refusal_content(None, None) == "refused"


def test_a_reject_is_read_as_code_and_message() -> None:
    said = {"reason": "unknown_member", "content": "unknown_member: no member 'zoé' here"}
    assert refusal_of(said) == ("unknown_member", "no member 'zoé' here")
    # The message alone, or another peer's words: kept whole.
    assert refusal_of({"reason": "limit", "content": "too much"}) == ("limit", "too much")
    assert refusal_of({"reason": "limit"}) == ("limit", "refused")
    assert refusal_of({"content": "limit: no"}) == (None, "limit: no")


def test_a_reason_that_is_not_a_code_is_not_kept_as_one() -> None:
    """The code has a column of 32 characters: anything else a peer sends stays in the
    message, where people can read it."""
    for junk in ("x" * 33, "Limit", "limit; drop", "", 7, None, ["limit"], "expired\n"):
        code, message = refusal_of({"reason": junk, "content": "limit: no"})
        assert code is None and message == "limit: no", junk
