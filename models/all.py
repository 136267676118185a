"""Imports every model module so that the metadata knows every table."""

from models import (  # noqa: F401
    accounts,
    actors,
    attestation_checks,
    attestations,
    bulletins,
    follows,
    inbox,
    offers,
    outbox,
    posts,
    replies,
)
from models.charter import (  # noqa: F401
    contract_models,
    contracts,
    hostings,
    polls,
    receipts,
    satisfaction,
)
from models.network import (  # noqa: F401
    alliances,
    blocks,
    contact,
    directory,
    help,
    obligation_records,
    report_flow,
    reports,
)
from models.sel import accounts as sel_accounts  # noqa: F401
from models.sel import exchanges, ledger  # noqa: F401
