"""polls: the poll, its voter roll, its ballots, and the fediverse's votes

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 18:00:00

Four new tables (models/charter/polls.py); nothing existing changes. The
voter roll and the ballots are separate tables with nothing in common but
the poll: who voted is never linked to what was chosen.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("options_json", sa.Text(), nullable=False),
        sa.Column("multiple", sa.Boolean(), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts_dirty", sa.Boolean(), nullable=False),
        sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_polls")),
        sa.UniqueConstraint("uuid", name=op.f("uq_polls_uuid")),
    )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_polls_state"), ["state"], unique=False)

    op.create_table(
        "poll_voters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"], ["polls.id"], name=op.f("fk_poll_voters_poll_id_polls"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_poll_voters_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_voters")),
        sa.UniqueConstraint("poll_id", "user_id", name=op.f("uq_poll_voters_poll_id")),
    )
    with op.batch_alter_table("poll_voters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_voters_user_id"), ["user_id"], unique=False)

    op.create_table(
        "poll_ballots",
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("choices_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_ballots_poll_id_polls"),
            ondelete="CASCADE",
        ),
        # No serial id: it would number the ballots in the order they were cast.
        sa.PrimaryKeyConstraint("poll_id", "code", name=op.f("pk_poll_ballots")),
    )

    op.create_table(
        "poll_fedi_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("choice", sa.Integer(), nullable=False),
        sa.Column("note_uri", sa.String(length=2048), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_fedi_votes_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_fedi_votes")),
        sa.UniqueConstraint(
            "poll_id", "actor_uri", "choice", name=op.f("uq_poll_fedi_votes_poll_id")
        ),
    )
    with op.batch_alter_table("poll_fedi_votes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poll_fedi_votes_poll_id"), ["poll_id"], unique=False)


def downgrade() -> None:
    op.drop_table("poll_fedi_votes")
    op.drop_table("poll_ballots")
    op.drop_table("poll_voters")
    op.drop_table("polls")
