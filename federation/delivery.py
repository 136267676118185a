"""Delivery policy as pure functions: what an answer means and when to try again.

Kept free of I/O so it can be tested as a table. Defaults follow the habits
of the big servers (../shared/INTEROP.md): exponential back-off with jitter,
capped, for at least two days (we keep trying for three), Retry-After
honoured on 429/503, and no retry for a 4xx that will not change by itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum


class Verdict(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"
    GIVE_UP = "give_up"


@dataclass(frozen=True)
class Outcome:
    """What happened to one attempt: an HTTP status, or a network error."""

    status: int | None = None
    error: str | None = None
    retry_after: str | None = None
    #: A refusal on our side (bad URL, SSRF guard): trying again cannot help.
    permanent: bool = False


@dataclass(frozen=True)
class RetryPolicy:
    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=6)
    max_age: timedelta = timedelta(hours=72)
    jitter: float = 0.2


def classify(outcome: Outcome) -> Verdict:
    status = outcome.status
    if outcome.permanent:
        return Verdict.GIVE_UP
    if status is None:
        return Verdict.RETRY
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status in (408, 425, 429) or status >= 500:
        return Verdict.RETRY
    # 3xx (we do not follow redirects on POST), 410 gone and other 4xx:
    # the same request will get the same answer.
    return Verdict.GIVE_UP


def _retry_after(value: str | None, now: datetime) -> timedelta | None:
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        # Anything beyond a year is as good as "never": cap before timedelta overflows.
        return timedelta(seconds=min(int(value), 366 * 86400))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))


def next_attempt(
    attempts: int,
    outcome: Outcome,
    now: datetime,
    first_attempt: datetime,
    policy: RetryPolicy = RetryPolicy(),
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after ``attempts`` failed tries, or None to stop.

    None also for a success: there is nothing left to do. A Retry-After that
    would carry us past ``max_age`` gives up rather than waiting forever.
    """
    verdict = classify(outcome)
    if verdict is not Verdict.RETRY:
        return None
    # Cap the exponent before multiplying: 2**60 seconds overflows timedelta.
    doublings = min(max(attempts - 1, 0), 40)
    delay = min(policy.cap, policy.base * (2**doublings))
    spread = (rng or random).uniform(1 - policy.jitter, 1 + policy.jitter)
    delay = delay * spread
    if outcome.status in (429, 503):
        asked = _retry_after(outcome.retry_after, now)
        if asked is not None:
            delay = max(delay, asked)
    when: datetime = now + delay
    if when - first_attempt > policy.max_age:
        return None
    return when


def dedupe_inboxes(inboxes: list[str]) -> list[str]:
    """Order-preserving de-duplication: one POST per inbox, however many followers share it."""
    return list(dict.fromkeys(i for i in inboxes if i))
