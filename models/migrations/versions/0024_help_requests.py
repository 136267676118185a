"""Club Aide help requests across the network, and the offers of help

Revision ID: 0024
Revises: 0019
Create Date: 2026-12-03 09:00:00

Two new tables; nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "help_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=True),
        sa.Column("origin_uri", sa.String(length=2048), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=80), nullable=False),
        sa.Column("area", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("outcome_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["requester_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("uri"),
    )
    for column in ("local", "requester_id", "origin_uri", "state", "created_at"):
        op.create_index(f"ix_help_requests_{column}", "help_requests", [column])
    op.create_table(
        "help_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("responder_id", sa.Integer(), nullable=True),
        sa.Column("responder_node_uri", sa.String(length=2048), nullable=False),
        sa.Column("signature", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_meeting_free", sa.Boolean(), nullable=False),
        sa.Column("reply", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["help_requests.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["responder_id"], ["users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("uri"),
    )
    for column in ("request_id", "responder_id", "created_at"):
        op.create_index(f"ix_help_offers_{column}", "help_offers", [column])


def downgrade() -> None:
    op.drop_table("help_offers")
    op.drop_table("help_requests")
