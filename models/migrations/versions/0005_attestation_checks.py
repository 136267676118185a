"""attestations announced to us are fetched and checked before they are held

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attestation_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("subject_actor_id", sa.Integer(), nullable=False),
        sa.Column("announced_by", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_attestation_checks_subject_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestation_checks")),
        sa.UniqueConstraint("uri", name=op.f("uq_attestation_checks_uri")),
    )
    with op.batch_alter_table("attestation_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attestation_checks_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attestation_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestation_checks_state"))
    op.drop_table("attestation_checks")
