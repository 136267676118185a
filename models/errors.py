"""The one family of errors a person is shown as they are.

A ``UserError`` is a refusal caused by what someone asked (a limit, a wrong
reference, a right they do not hold): the message says what went wrong and
what to do, nothing was written. The web shows it on the page (4xx), the
CLI prints it (exit 1). Any other exception is a bug: a 500 and a log line.
"""

from __future__ import annotations


class UserError(ValueError):
    """A refusal a person can understand and act on; nothing was changed."""


class Forbidden(UserError):
    """The acting person does not hold the role this needs."""


class NotFound(UserError):
    """What was named does not exist (or is not visible to this person)."""
