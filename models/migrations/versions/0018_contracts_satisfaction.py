"""contract models, contracts and client satisfaction

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 16:54:36

The two contract documents and their versions, hosting contracts signed by
the client through a link, client satisfaction ratings and each mediator's
consent to show them (models/charter/). Nothing existing changes.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contract_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_model_versions")),
        sa.UniqueConstraint("kind", "number", name=op.f("uq_contract_model_versions_kind")),
    )
    op.create_table(
        "satisfaction_settings",
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["local_actors.id"],
            name=op.f("fk_satisfaction_settings_actor_id_local_actors"),
        ),
        sa.PrimaryKeyConstraint("actor_id", name=op.f("pk_satisfaction_settings")),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("client_name", sa.String(length=200), nullable=False),
        sa.Column("service", sa.String(length=200), nullable=False),
        sa.Column("price_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("duration", sa.String(length=100), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("share_minor", sa.BigInteger(), nullable=False),
        sa.Column("contract_version_id", sa.Integer(), nullable=False),
        sa.Column("conditions_version_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mediator_accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("link_hash", sa.String(length=64), nullable=True),
        sa.Column("link_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("copy_hash", sa.String(length=64), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("signed_text", sa.Text(), nullable=True),
        sa.Column("signed_sha256", sa.String(length=64), nullable=True),
        sa.Column("signed_document", sa.Text(), nullable=True),
        sa.Column("client_full_name", sa.String(length=200), nullable=True),
        sa.Column("client_organisation", sa.String(length=200), nullable=True),
        sa.Column("client_address", sa.String(length=500), nullable=True),
        sa.Column("client_email", sa.String(length=254), nullable=True),
        sa.Column("client_phone", sa.String(length=40), nullable=True),
        sa.Column("counterpart", sa.String(length=16), nullable=True),
        sa.Column("counterpart_detail", sa.Text(), nullable=True),
        sa.Column("typed_name", sa.String(length=200), nullable=True),
        sa.Column("handed_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("share_paid_minor", sa.BigInteger(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["local_actors.id"], name=op.f("fk_contracts_actor_id_local_actors")
        ),
        sa.ForeignKeyConstraint(
            ["conditions_version_id"],
            ["contract_model_versions.id"],
            name=op.f("fk_contracts_conditions_version_id_contract_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_version_id"],
            ["contract_model_versions.id"],
            name=op.f("fk_contracts_contract_version_id_contract_model_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["offers.id"], name=op.f("fk_contracts_offer_id_offers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contracts")),
        sa.UniqueConstraint("copy_hash", name=op.f("uq_contracts_copy_hash")),
        sa.UniqueConstraint("link_hash", name=op.f("uq_contracts_link_hash")),
        sa.UniqueConstraint("uuid", name=op.f("uq_contracts_uuid")),
    )
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contracts_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_contracts_state"), ["state"], unique=False)

    op.create_table(
        "satisfaction_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["local_actors.id"],
            name=op.f("fk_satisfaction_requests_actor_id_local_actors"),
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_satisfaction_requests_contract_id_contracts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_satisfaction_requests")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_satisfaction_requests_token_hash")),
    )
    with op.batch_alter_table("satisfaction_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_satisfaction_requests_actor_id"), ["actor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_satisfaction_requests_contract_id"), ["contract_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("satisfaction_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_satisfaction_requests_contract_id"))
        batch_op.drop_index(batch_op.f("ix_satisfaction_requests_actor_id"))

    op.drop_table("satisfaction_requests")
    with op.batch_alter_table("contracts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contracts_state"))
        batch_op.drop_index(batch_op.f("ix_contracts_actor_id"))

    op.drop_table("contracts")
    op.drop_table("satisfaction_settings")
    op.drop_table("contract_model_versions")
