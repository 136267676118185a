"""A tiny helper for lifecycles declared as data next to their model.

Each lifecycle is a StrEnum of states and a dict of allowed transitions; the
one guard below is what every model calls, so an illegal move fails loudly
in one recognisable way instead of corrupting a row quietly.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TypeVar

S = TypeVar("S", bound=StrEnum)


class IllegalTransition(ValueError):
    pass


def check_transition(transitions: Mapping[S, frozenset[S]], current: S, new: S) -> S:
    if new == current:
        return new
    if new not in transitions.get(current, frozenset()):
        raise IllegalTransition(f"cannot go from {current} to {new}")
    return new
