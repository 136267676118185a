"""sel ledger and exchanges, ordered deliveries

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 23:43:37.752114
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sel_ledger_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sel_ledger_head")),
    )
    op.create_table(
        "sel_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=2100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("peer_uri", sa.String(length=2048), nullable=True),
        sa.Column("lower_limit", sa.Integer(), nullable=False),
        sa.Column("upper_limit", sa.Integer(), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("held", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "lower_limit <= 0 AND upper_limit >= 0", name=op.f("ck_sel_accounts_limits")
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["local_actors.id"], name=op.f("fk_sel_accounts_actor_id_local_actors")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sel_accounts")),
        sa.UniqueConstraint("code", name=op.f("uq_sel_accounts_code")),
        sa.UniqueConstraint("peer_uri", name=op.f("uq_sel_accounts_peer_uri")),
    )
    op.create_table(
        "sel_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("exchange_uuid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("debit_id", sa.Integer(), nullable=False),
        sa.Column("credit_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_sel_entries_positive")),
        sa.ForeignKeyConstraint(
            ["credit_id"], ["sel_accounts.id"], name=op.f("fk_sel_entries_credit_id_sel_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["debit_id"], ["sel_accounts.id"], name=op.f("fk_sel_entries_debit_id_sel_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sel_entries")),
        sa.UniqueConstraint("hash", name=op.f("uq_sel_entries_hash")),
        sa.UniqueConstraint("seq", name=op.f("uq_sel_entries_seq")),
    )
    with op.batch_alter_table("sel_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sel_entries_credit_id"), ["credit_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sel_entries_debit_id"), ["debit_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sel_entries_exchange_uuid"), ["exchange_uuid"], unique=False
        )

    op.create_table(
        "sel_exchanges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("payer_id", sa.Integer(), nullable=False),
        sa.Column("payee_id", sa.Integer(), nullable=False),
        sa.Column("remote_party", sa.String(length=300), nullable=True),
        sa.Column("peer_uri", sa.String(length=2048), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("performed_on", sa.String(length=10), nullable=False),
        sa.Column("recorded_by", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("peer_seq", sa.Integer(), nullable=True),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["payee_id"], ["sel_accounts.id"], name=op.f("fk_sel_exchanges_payee_id_sel_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["payer_id"], ["sel_accounts.id"], name=op.f("fk_sel_exchanges_payer_id_sel_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sel_exchanges")),
        sa.UniqueConstraint("uri", name=op.f("uq_sel_exchanges_uri")),
        sa.UniqueConstraint("uuid", name=op.f("uq_sel_exchanges_uuid")),
    )
    with op.batch_alter_table("sel_exchanges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sel_exchanges_payee_id"), ["payee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sel_exchanges_payer_id"), ["payer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sel_exchanges_peer_uri"), ["peer_uri"], unique=False)
        batch_op.create_index(batch_op.f("ix_sel_exchanges_state"), ["state"], unique=False)

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ordered", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_inbox_state", ["inbox", "state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_inbox_state")

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("ordered")

    with op.batch_alter_table("sel_exchanges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sel_exchanges_state"))
        batch_op.drop_index(batch_op.f("ix_sel_exchanges_peer_uri"))
        batch_op.drop_index(batch_op.f("ix_sel_exchanges_payer_id"))
        batch_op.drop_index(batch_op.f("ix_sel_exchanges_payee_id"))

    op.drop_table("sel_exchanges")
    with op.batch_alter_table("sel_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sel_entries_exchange_uuid"))
        batch_op.drop_index(batch_op.f("ix_sel_entries_debit_id"))
        batch_op.drop_index(batch_op.f("ix_sel_entries_credit_id"))

    op.drop_table("sel_entries")
    op.drop_table("sel_accounts")
    op.drop_table("sel_ledger_head")
