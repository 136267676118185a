"""a remote node's role, read from its actor document; an alliance's crossed request

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 09:00:00

``remote_actors.role``: the inbox refuses an alliance request from an actor
that is not a coopnet node, without fetching anything while it processes.
``alliances.other_request_uri``: when both nodes asked at the same time,
each may name either request when it ends the alliance later.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs: remote_actors is referenced by other tables (no rebuild).
    op.add_column(
        "remote_actors",
        sa.Column("role", sa.String(length=16), nullable=False, server_default=""),
    )
    op.add_column(
        "alliances",
        sa.Column("other_request_uri", sa.String(length=2048), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("alliances") as batch:
        batch.drop_column("other_request_uri")
    with op.batch_alter_table("remote_actors") as batch:
        batch.drop_column("role")
