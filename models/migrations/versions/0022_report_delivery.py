"""section reports: the activity last sent or received, and the day figures were composed

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-03 09:00:00

Two nullable columns on ``section_reports`` (models/network/reports.py):
``activity_uri`` (the Create or Update that carried the current version, so
the seat's Accept is matched to the version it acknowledges) and ``as_of``
(the day the figures were counted up to); and ``refusal``, the seat's reason
when it refused a sending. Nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("section_reports") as batch:
        batch.add_column(sa.Column("activity_uri", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("as_of", sa.Date(), nullable=True))
        batch.add_column(sa.Column("refusal", sa.String(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("section_reports") as batch:
        batch.drop_column("refusal")
        batch.drop_column("as_of")
        batch.drop_column("activity_uri")
