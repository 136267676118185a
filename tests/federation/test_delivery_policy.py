"""Table tests of the delivery policy (``federation.delivery``): pure functions, no I/O.

What an answer means (delivered, retry, give up), when the next try happens (exponential
back-off with jitter, capped, Retry-After honoured, stop after ``max_age``), and the
de-duplication of inboxes.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from federation.delivery import (
    Outcome,
    RetryPolicy,
    Verdict,
    classify,
    dedupe_inboxes,
    next_attempt,
)

T0 = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
DEFAULT = RetryPolicy()
NO_JITTER = RetryPolicy(jitter=0.0)

DELIVERED = [200, 201, 202, 204, 299]
GIVE_UP = [400, 401, 403, 404, 410, 422]
RETRY = [408, 429, 500, 502, 503]


# --------------------------------------------------------------------------------------------
# classify / next_attempt: what each answer means
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", DELIVERED)
def test_2xx_is_delivered_and_has_no_next_attempt(status: int) -> None:
    outcome = Outcome(status=status)
    assert classify(outcome) is Verdict.DELIVERED
    assert next_attempt(1, outcome, T0, T0) is None


@pytest.mark.parametrize("status", GIVE_UP)
def test_permanent_4xx_gives_up(status: int) -> None:
    outcome = Outcome(status=status)
    assert classify(outcome) is Verdict.GIVE_UP
    assert next_attempt(1, outcome, T0, T0, rng=random.Random(1)) is None


@pytest.mark.parametrize("status", [*RETRY, None])
def test_transient_failures_are_retried_later(status: int | None) -> None:
    outcome = Outcome(status=status, error=None if status else "ClientConnectorError: refused")
    assert classify(outcome) is Verdict.RETRY
    when = next_attempt(1, outcome, T0, T0, rng=random.Random(2))
    assert when is not None
    assert when > T0
    # First retry: base delay give or take the jitter.
    assert when - T0 <= DEFAULT.base * (1 + DEFAULT.jitter)
    assert when - T0 >= DEFAULT.base * (1 - DEFAULT.jitter)


def test_network_error_without_status_is_retried() -> None:
    outcome = Outcome(status=None, error="TimeoutError: ")
    when = next_attempt(3, outcome, T0 + timedelta(minutes=5), T0, rng=random.Random(3))
    assert when is not None and when > T0 + timedelta(minutes=5)


@pytest.mark.parametrize("status", [None, 500, 202, 429])
def test_permanent_outcome_gives_up_whatever_the_status(status: int | None) -> None:
    outcome = Outcome(status=status, error="blocked (SSRF guard)", permanent=True)
    assert classify(outcome) is Verdict.GIVE_UP
    assert next_attempt(1, outcome, T0, T0) is None


# --------------------------------------------------------------------------------------------
# Back-off
# --------------------------------------------------------------------------------------------


def _delay(attempts: int, policy: RetryPolicy, seed: int = 0, status: int = 500) -> timedelta:
    # max_age far away so that only the back-off shapes the answer.
    when = next_attempt(attempts, Outcome(status=status), T0, T0, policy, random.Random(seed))
    assert when is not None
    return when - T0


def test_delays_without_jitter_are_exponential_then_capped() -> None:
    policy = RetryPolicy(jitter=0.0, max_age=timedelta(days=30))
    delays = [_delay(n, policy) for n in range(1, 16)]
    assert delays[0] == policy.base
    assert delays[1] == policy.base * 2
    assert delays[2] == policy.base * 4
    assert all(b >= a for a, b in zip(delays, delays[1:], strict=False))
    assert all(d <= policy.cap for d in delays)
    assert delays[-1] == policy.cap


def test_delays_grow_with_attempts_even_with_jitter() -> None:
    """With ±20 % jitter, attempt n+1's smallest delay beats attempt n's largest (below the cap)."""
    policy = RetryPolicy(max_age=timedelta(days=30))
    for n in range(1, 9):
        this = [_delay(n, policy, seed) for seed in range(20)]
        after = [_delay(n + 1, policy, seed) for seed in range(20)]
        assert min(after) > max(this), n
    for n in (12, 20, 30):
        for seed in range(10):
            assert _delay(n, policy, seed) <= policy.cap * (1 + policy.jitter)


def test_same_seed_same_schedule() -> None:
    a = next_attempt(4, Outcome(status=502), T0, T0, rng=random.Random(42))
    b = next_attempt(4, Outcome(status=502), T0, T0, rng=random.Random(42))
    assert a == b


# --------------------------------------------------------------------------------------------
# Retry-After
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured(status: int) -> None:
    when = next_attempt(1, Outcome(status=status, retry_after="120"), T0, T0, rng=random.Random(0))
    assert when is not None
    assert when - T0 >= timedelta(seconds=120)


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_http_date_is_honoured(status: int) -> None:
    asked = T0 + timedelta(minutes=17)
    header = format_datetime(asked, usegmt=True)
    when = next_attempt(1, Outcome(status=status, retry_after=header), T0, T0, rng=random.Random(0))
    assert when is not None
    assert when >= asked


def test_retry_after_shorter_than_backoff_does_not_shorten_it() -> None:
    policy = RetryPolicy(jitter=0.0)
    when = next_attempt(6, Outcome(status=429, retry_after="1"), T0, T0, policy)
    assert when == T0 + policy.base * 32


@pytest.mark.parametrize("value", ["soon, maybe", "-5", "1.5", "²", "³⁰"])
def test_garbage_retry_after_falls_back_to_backoff(value: str) -> None:
    # "²" passes str.isdigit() but not int(): it must not raise either.
    when = next_attempt(1, Outcome(status=503, retry_after=value), T0, T0, NO_JITTER)
    assert when == T0 + NO_JITTER.base


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_beyond_max_age_gives_up(status: int) -> None:
    seconds = int((DEFAULT.max_age + timedelta(hours=1)).total_seconds())
    outcome = Outcome(status=status, retry_after=str(seconds))
    assert next_attempt(1, outcome, T0, T0, rng=random.Random(0)) is None
    header = format_datetime(T0 + DEFAULT.max_age + timedelta(days=2), usegmt=True)
    outcome = Outcome(status=status, retry_after=header)
    assert next_attempt(1, outcome, T0, T0, rng=random.Random(0)) is None


def test_absurd_retry_after_gives_up_instead_of_raising() -> None:
    """A remote controls this header: an enormous value must mean "give up", not a crash
    (a crash in the worker rolls the whole batch back and it is sent again forever)."""
    outcome = Outcome(status=429, retry_after="9" * 20)
    assert next_attempt(1, outcome, T0, T0, rng=random.Random(0)) is None


# --------------------------------------------------------------------------------------------
# The whole schedule
# --------------------------------------------------------------------------------------------


def test_default_schedule_keeps_trying_for_at_least_48_hours() -> None:
    rng = random.Random(7)
    now = T0
    attempts = 0
    times: list[datetime] = []
    for _ in range(1000):  # bounded: the default schedule is a few dozen attempts
        attempts += 1
        when = next_attempt(attempts, Outcome(status=500), now, T0, DEFAULT, rng)
        if when is None:
            break
        assert when > now
        times.append(when)
        now = when
    else:
        pytest.fail("the schedule never gave up")
    last = times[-1]
    assert last - T0 >= timedelta(hours=48)
    assert last - T0 <= DEFAULT.max_age
    # Spacing is capped: never more than cap (plus jitter) between two tries.
    gaps = [b - a for a, b in zip([T0, *times[:-1]], times, strict=True)]
    assert max(gaps) <= DEFAULT.cap * (1 + DEFAULT.jitter)


def test_failure_after_max_age_gives_up() -> None:
    now = T0 + DEFAULT.max_age + timedelta(minutes=1)
    assert next_attempt(5, Outcome(status=500), now, T0, rng=random.Random(0)) is None


def test_many_attempts_with_a_long_max_age_do_not_overflow() -> None:
    """An operator may raise delivery_max_age_hours (say to 30 days): at 6 h per try that is
    over 100 attempts, and the delay must stay at the cap rather than overflow timedelta."""
    policy = RetryPolicy(max_age=timedelta(days=30))
    for attempts in (43, 60, 120):
        when = next_attempt(attempts, Outcome(status=500), T0, T0, policy, random.Random(0))
        assert when is not None
        assert when - T0 <= policy.cap * (1 + policy.jitter)


# --------------------------------------------------------------------------------------------
# dedupe_inboxes
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_", "expected"),
    [
        ([], []),
        (["https://a/inbox"], ["https://a/inbox"]),
        (
            ["https://b/inbox", "https://a/inbox", "https://b/inbox", "https://c/u/1/inbox"],
            ["https://b/inbox", "https://a/inbox", "https://c/u/1/inbox"],
        ),
        (["", "https://a/inbox", "", "https://a/inbox"], ["https://a/inbox"]),
        (["", ""], []),
    ],
)
def test_dedupe_inboxes(given_: list[str], expected: list[str]) -> None:
    assert dedupe_inboxes(given_) == expected


# --------------------------------------------------------------------------------------------
# Property
# --------------------------------------------------------------------------------------------

RETRYABLE = st.one_of(
    st.none(), st.sampled_from([408, 425, 429]), st.integers(min_value=500, max_value=599)
)
RETRY_AFTER = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=10 * 24 * 3600).map(str),
    st.integers(min_value=-3600, max_value=4 * 24 * 3600).map(
        lambda s: format_datetime(T0 + timedelta(seconds=s), usegmt=True)
    ),
)


@settings(max_examples=100, deadline=None)
@given(
    attempts=st.integers(min_value=1, max_value=10_000),
    status=RETRYABLE,
    retry_after=RETRY_AFTER,
    elapsed=st.integers(min_value=0, max_value=int(DEFAULT.max_age.total_seconds()) + 3600),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_next_attempt_is_later_and_within_max_age(
    attempts: int, status: int | None, retry_after: str | None, elapsed: int, seed: int
) -> None:
    first = T0
    now = first + timedelta(seconds=elapsed)
    outcome = Outcome(status=status, error=None if status else "refused", retry_after=retry_after)
    when = next_attempt(attempts, outcome, now, first, DEFAULT, random.Random(seed))
    if when is not None:
        assert when > now
        assert when - first <= DEFAULT.max_age
