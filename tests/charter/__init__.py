"""Tests of the charter paperwork (issue 10)."""
