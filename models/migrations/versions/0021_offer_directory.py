"""the shared offer directory: allied sections' offers, contact requests, search columns

Revision ID: 0021
Revises: 0019
Create Date: 2026-12-03 08:00:00

New tables ``remote_offers`` and ``contact_requests``; ``offers.search`` and
``offers.area_search`` (filled here for the offers already published); on
``alliances`` the two columns of the offers backfill
(models/network/directory.py, node/network/backfill.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("actor_uri", sa.String(length=2048), nullable=False),
        sa.Column("node_uri", sa.String(length=2048), nullable=False),
        sa.Column("node_name", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("price_amount", sa.String(length=32), nullable=True),
        sa.Column("price_currency", sa.String(length=3), nullable=True),
        sa.Column("sel_minutes", sa.Integer(), nullable=True),
        sa.Column("area", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search", sa.Text(), nullable=False),
        sa.Column("area_search", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uri"),
    )
    op.create_index("ix_remote_offers_actor_uri", "remote_offers", ["actor_uri"])
    op.create_index("ix_remote_offers_node_uri", "remote_offers", ["node_uri"])
    op.create_index("ix_remote_offers_valid_until", "remote_offers", ["valid_until"])
    op.create_table(
        "contact_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("offer_uri", sa.String(length=2048), nullable=False),
        sa.Column("offer_title", sa.String(length=200), nullable=False),
        sa.Column("author_uri", sa.String(length=2048), nullable=False),
        sa.Column("node_name", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answer_uri", sa.String(length=2048), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("uri"),
    )
    op.create_index("ix_contact_requests_user_id", "contact_requests", ["user_id"])
    op.create_index("ix_contact_requests_created_at", "contact_requests", ["created_at"])
    with op.batch_alter_table("alliances") as batch:
        batch.add_column(sa.Column("offers_backfilled_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("offers_backfill_tried_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("offers") as batch:
        batch.add_column(sa.Column("search", sa.Text(), nullable=False, server_default=" "))
        batch.add_column(sa.Column("area_search", sa.Text(), nullable=False, server_default=" "))
    _fill_search()


def _fill_search() -> None:
    """The offers published before this version become searchable too."""
    from models.network.directory import category_words
    from models.network.search import search_text

    bind = op.get_bind()
    offers = sa.table(
        "offers",
        sa.column("id", sa.Integer()),
        sa.column("title", sa.String()),
        sa.column("description", sa.Text()),
        sa.column("area", sa.String()),
        sa.column("category", sa.String()),
        sa.column("search", sa.Text()),
        sa.column("area_search", sa.Text()),
    )
    rows = bind.execute(
        sa.select(
            offers.c.id, offers.c.title, offers.c.description, offers.c.area, offers.c.category
        )
    ).all()
    for ident, title, description, area, category in rows:
        bind.execute(
            offers.update()
            .where(offers.c.id == ident)
            .values(
                search=search_text(title, description, area, category_words(category)),
                area_search=search_text(area),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("offers") as batch:
        batch.drop_column("area_search")
        batch.drop_column("search")
    with op.batch_alter_table("alliances") as batch:
        batch.drop_column("offers_backfill_tried_at")
        batch.drop_column("offers_backfilled_at")
    op.drop_index("ix_contact_requests_created_at", table_name="contact_requests")
    op.drop_index("ix_contact_requests_user_id", table_name="contact_requests")
    op.drop_table("contact_requests")
    op.drop_index("ix_remote_offers_valid_until", table_name="remote_offers")
    op.drop_index("ix_remote_offers_node_uri", table_name="remote_offers")
    op.drop_index("ix_remote_offers_actor_uri", table_name="remote_offers")
    op.drop_table("remote_offers")
