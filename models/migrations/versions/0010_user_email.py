"""an e-mail address on accounts, for password links sent by mail

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 17:00:00

Optional: the node works without any mail server, and an account without an
address gets its links by hand, as before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("email", sa.String(length=254), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email")
