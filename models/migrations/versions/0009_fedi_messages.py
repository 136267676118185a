"""replies and mentions from the fediverse to our actors, and our answers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09 10:00:00

A mediator's inbox (models/replies.py): one new table, nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fedi_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("remote_actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("remote_handle", sa.String(length=300), nullable=False),
        sa.Column("remote_name", sa.String(length=200), nullable=False),
        sa.Column("in_reply_to", sa.String(length=2048), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_fedi_messages_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fedi_messages")),
        sa.UniqueConstraint(
            "local_actor_id",
            "direction",
            "uri",
            name=op.f("uq_fedi_messages_local_actor_id"),
        ),
    )
    with op.batch_alter_table("fedi_messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_fedi_messages_inbox", ["local_actor_id", "direction", "read_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fedi_messages_remote_actor_uri"), ["remote_actor_uri"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fedi_messages_uri"), ["uri"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("fedi_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fedi_messages_uri"))
        batch_op.drop_index(batch_op.f("ix_fedi_messages_remote_actor_uri"))
        batch_op.drop_index("ix_fedi_messages_inbox")

    op.drop_table("fedi_messages")
