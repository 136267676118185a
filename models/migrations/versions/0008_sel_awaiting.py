"""exchanges offered by a peer section may wait for the member's confirmation

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 13:40:00

A responder's exchange in the new state ``awaiting`` keeps the id of the
latest Offer it answers (``offer_activity``), so that the member's answer,
given later from the web page, answers that Offer. Existing rows are
untouched (the column stays empty for them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sel_exchanges", sa.Column("offer_activity", sa.String(length=2048), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("sel_exchanges", schema=None) as batch_op:
        batch_op.drop_column("offer_activity")
