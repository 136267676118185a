"""What the command line prints, and what it accepts as arguments.

Much of what the CLI prints comes from other servers (inbox URLs, handles,
names, SEL account codes chosen by a peer). Instead of trusting every
``print`` to clean its text, the streams themselves drop what could drive
the terminal: C0 controls other than tab and newline, DEL, C1 controls and
the bidi overrides that can make a line read differently from its bytes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

#: Everything a terminal could interpret, except tab and newline.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_text(text: str) -> str:
    return UNSAFE.sub("", text)


class SafeStream:
    """A text stream that writes through to another, minus terminal controls."""

    def __init__(self, inner: TextIO) -> None:
        self._inner = inner

    def write(self, text: str) -> int:
        self._inner.write(safe_text(text))
        return len(text)

    def writelines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        # flush, fileno, isatty, encoding...: the inner stream's own.
        return getattr(self._inner, name)


@contextmanager
def safe_streams() -> Iterator[None]:
    """stdout and stderr filtered for the duration (restored after, for tests)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = SafeStream(out)
    sys.stderr = SafeStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err


def undecodable_argument(argv: Sequence[str]) -> str | None:
    """The option (or argument) whose value is not valid UTF-8, if any.

    Python decodes such bytes into lone surrogates, which then fail deep
    inside whatever writes them (the config, the database): refuse first.
    """
    for i, arg in enumerate(argv):
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            if arg.startswith("--") and "=" in arg:
                name = arg.split("=", 1)[0]
            elif arg.startswith("-"):
                name = arg
            elif i > 0 and argv[i - 1].startswith("-"):
                name = argv[i - 1]
            else:
                name = f"argument {i + 1}"
            return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return None
