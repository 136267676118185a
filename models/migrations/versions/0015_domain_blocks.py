"""domains blocked both ways, with the reason

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 17:30:00

One new table; nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "domain_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=260), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("domain"),
    )


def downgrade() -> None:
    op.drop_table("domain_blocks")
