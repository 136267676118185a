"""Imports every model module so that the metadata knows every table."""

from models import (  # noqa: F401
    actors,
    attestation_checks,
    attestations,
    bulletins,
    exchanges,
    follows,
    inbox,
    ledger,
    offers,
    outbox,
    posts,
)
