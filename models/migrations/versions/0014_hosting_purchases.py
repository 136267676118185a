"""hostings mediators buy from their section (the charter's one a month)

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-02 17:00:00

One new table; nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hosting_purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("bought_on", sa.Date(), nullable=False),
        sa.Column("what", sa.String(length=300), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["local_actors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_hosting_purchases_actor_day", "hosting_purchases", ["actor_id", "bought_on"]
    )


def downgrade() -> None:
    op.drop_index("ix_hosting_purchases_actor_day", table_name="hosting_purchases")
    op.drop_table("hosting_purchases")
