"""alliances between node actors; section reports to the seat

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 07:30:00

Two new tables; nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alliances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("peer_uri", sa.String(length=2048), nullable=False),
        sa.Column("peer_handle", sa.String(length=300), nullable=False),
        sa.Column("peer_name", sa.String(length=200), nullable=False),
        sa.Column("peer_role", sa.String(length=16), nullable=False),
        sa.Column("peer_inbox", sa.String(length=2048), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("asked_by_us", sa.Boolean(), nullable=False),
        sa.Column("request_uri", sa.String(length=2048), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("peer_uri"),
    )
    op.create_index("ix_alliances_state", "alliances", ["state"])
    op.create_table(
        "section_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("section_uri", sa.String(length=2048), nullable=False),
        sa.Column("section_name", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("figures_json", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("composed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uuid"),
        sa.UniqueConstraint("uri"),
        sa.UniqueConstraint("section_uri", "period"),
    )
    op.create_index("ix_section_reports_section_uri", "section_reports", ["section_uri"])
    op.create_index("ix_section_reports_period", "section_reports", ["period"])


def downgrade() -> None:
    op.drop_table("section_reports")
    op.drop_table("alliances")
