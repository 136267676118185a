"""The charter's paperwork: contract models and contracts, receipts, client
satisfaction, hostings bought, and polls (issue 10)."""
