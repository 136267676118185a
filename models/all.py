"""Imports every model module so that the metadata knows every table."""

from models import (  # noqa: F401
    actors,
    attestation_checks,
    attestations,
    bulletins,
    follows,
    inbox,
    offers,
    outbox,
    posts,
)
from models.sel import accounts, exchanges, ledger  # noqa: F401
