"""receipts: numbered per year without gaps, immutable, signed

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 17:20:00

Two tables (models/charter/receipts.py): the receipts themselves and one
counter row per year, incremented in the transaction that issues a receipt.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "receipt_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_receipt_counters")),
    )
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("mediator_actor_id", sa.Integer(), nullable=False),
        sa.Column("payer_name", sa.String(length=200), nullable=False),
        sa.Column("payer_contact", sa.String(length=300), nullable=True),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("contract_ref", sa.String(length=64), nullable=True),
        sa.Column("cancels_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("submission", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cancels_id"], ["receipts.id"], name=op.f("fk_receipts_cancels_id_receipts")
        ),
        sa.ForeignKeyConstraint(
            ["mediator_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_receipts_mediator_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("cancels_id", name=op.f("uq_receipts_cancels_id")),
        sa.UniqueConstraint("submission", name=op.f("uq_receipts_submission")),
        sa.UniqueConstraint("uuid", name=op.f("uq_receipts_uuid")),
        sa.UniqueConstraint("year", "number", name=op.f("uq_receipts_year")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_receipts_mediator_actor_id"), ["mediator_actor_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_mediator_actor_id"))
    op.drop_table("receipts")
    op.drop_table("receipt_counters")
