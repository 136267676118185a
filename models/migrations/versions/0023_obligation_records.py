"""obligations of the charter recorded by hand

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-03 09:00:00

One new table; nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "obligation_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("subject", sa.String(length=2048), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("live", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_obligation_records")),
        sa.UniqueConstraint(
            "key", "period", "subject", "live", name=op.f("uq_obligation_records_key")
        ),
    )
    op.create_index(op.f("ix_obligation_records_key"), "obligation_records", ["key"])


def downgrade() -> None:
    op.drop_table("obligation_records")
