"""sel holds reserve room on the payee; refusals of non-peers recorded

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 00:26:53.149365
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: sel_accounts is referenced by other tables, so it must
    # not be rebuilt (batch mode would drop it).
    op.add_column(
        "sel_accounts",
        sa.Column("held_in", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    # Holds already placed reserve room on their clearing account too.
    op.execute(
        "UPDATE sel_accounts SET held_in = (SELECT COALESCE(SUM(amount), 0) FROM sel_exchanges"
        " WHERE sel_exchanges.payee_id = sel_accounts.id AND role = 'origin' AND state = 'held')"
    )

    with op.batch_alter_table("sel_exchanges", schema=None) as batch_op:
        batch_op.alter_column("payer_id", existing_type=sa.INTEGER(), nullable=True)
        batch_op.alter_column("payee_id", existing_type=sa.INTEGER(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("sel_exchanges", schema=None) as batch_op:
        batch_op.alter_column("payee_id", existing_type=sa.INTEGER(), nullable=False)
        batch_op.alter_column("payer_id", existing_type=sa.INTEGER(), nullable=False)

    with op.batch_alter_table("sel_accounts", schema=None) as batch_op:
        batch_op.drop_column("held_in")
