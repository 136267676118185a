"""mediators, offers, bulletins, attestations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 23:25:05.825145
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="note"),
        sa.Column("issuer_actor_id", sa.Integer(), nullable=False),
        sa.Column("subject_uri", sa.String(length=2048), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issuer_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_attestations_issuer_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attestations")),
        sa.UniqueConstraint("uri", name=op.f("uq_attestations_uri")),
        sa.UniqueConstraint("uuid", name=op.f("uq_attestations_uuid")),
    )
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attestations_issuer_actor_id"), ["issuer_actor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_attestations_subject_uri"), ["subject_uri"], unique=False
        )

    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_bulletins_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
        sa.UniqueConstraint("uri", name=op.f("uq_bulletins_uri")),
        sa.UniqueConstraint("uuid", name=op.f("uq_bulletins_uuid")),
    )
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bulletins_local_actor_id"), ["local_actor_id"], unique=False
        )

    op.create_table(
        "held_attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False, server_default="note"),
        sa.Column("issuer_uri", sa.String(length=2048), nullable=False),
        sa.Column("subject_actor_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subject_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_held_attestations_subject_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_attestations")),
        sa.UniqueConstraint("uri", name=op.f("uq_held_attestations_uri")),
    )
    with op.batch_alter_table("held_attestations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_held_attestations_subject_actor_id"), ["subject_actor_id"], unique=False
        )

    op.create_table(
        "offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("uri", sa.String(length=2048), nullable=False),
        sa.Column("local_actor_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("price_amount", sa.String(length=32), nullable=True),
        sa.Column("price_currency", sa.String(length=3), nullable=True),
        sa.Column("sel_minutes", sa.Integer(), nullable=True),
        sa.Column("area", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("contact", sa.String(length=2048), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("published", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["local_actor_id"],
            ["local_actors.id"],
            name=op.f("fk_offers_local_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offers")),
        sa.UniqueConstraint("uri", name=op.f("uq_offers_uri")),
        sa.UniqueConstraint("uuid", name=op.f("uq_offers_uuid")),
    )
    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_offers_local_actor_id"), ["local_actor_id"], unique=False
        )

    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("integrity_key_pem", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("skills", sa.Text(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("area", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("contact_url", sa.String(length=2048), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("avatar_url", sa.String(length=2048), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))

    # Existing actors get their Ed25519 integrity key (FEP-8b32) now, so every
    # actor can sign attestations. Generated here, not by app code, so this
    # migration keeps meaning the same thing whatever the code becomes.
    conn = op.get_bind()
    for (actor_id,) in conn.execute(sa.text("SELECT id FROM local_actors")).all():
        pem = (
            ed25519.Ed25519PrivateKey.generate()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            .decode("ascii")
        )
        conn.execute(
            sa.text("UPDATE local_actors SET integrity_key_pem = :pem WHERE id = :id"),
            {"pem": pem, "id": actor_id},
        )

    with op.batch_alter_table("remote_objects", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="note")
        )
        batch_op.add_column(
            sa.Column("name", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("summary", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_remote_objects_kind"), ["kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("remote_objects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_remote_objects_kind"))
        batch_op.drop_column("summary")
        batch_op.drop_column("name")
        batch_op.drop_column("kind")

    with op.batch_alter_table("local_actors", schema=None) as batch_op:
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("avatar_url")
        batch_op.drop_column("contact_url")
        batch_op.drop_column("area")
        batch_op.drop_column("skills")
        batch_op.drop_column("integrity_key_pem")
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("offers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_offers_local_actor_id"))

    op.drop_table("offers")
    with op.batch_alter_table("held_attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_attestations_subject_actor_id"))

    op.drop_table("held_attestations")
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletins_local_actor_id"))

    op.drop_table("bulletins")
    with op.batch_alter_table("attestations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attestations_subject_uri"))
        batch_op.drop_index(batch_op.f("ix_attestations_issuer_actor_id"))

    op.drop_table("attestations")
