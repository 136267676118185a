"""a refusal's reason code in a column of its own

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 00:00:00

Until now a refused exchange with a peer kept "code: message" in
``sel_exchanges.reason``. The code moves to ``reason_code`` and ``reason``
keeps the message only. Existing rows are split in SQL that SQLite and
PostgreSQL both run (``substr``, ``length``, no dialect's own functions).

Only the codes that coopnet sections have ever sent are split off: the
responder wrote them itself, the origin stored a peer's Reject ``content``,
which a coopnet peer writes the same way. Anything else (a member's words
on a local exchange, text from another kind of peer) is left whole.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: Every refusal code written before this revision (models/sel/responder.py).
CODES = ("malformed", "unit", "amount", "unknown_member", "expired", "limit", "not_peer")


def upgrade() -> None:
    # A plain ADD COLUMN: no table rebuild needed for a nullable column.
    op.add_column("sel_exchanges", sa.Column("reason_code", sa.String(length=32), nullable=True))
    for code in CODES:
        prefix = f"{code}: "
        # The codes are constants of ours: literals keep the SQL the same
        # offline (alembic --sql) and on every driver.
        op.execute(
            "UPDATE sel_exchanges"
            f" SET reason_code = '{code}', reason = substr(reason, {len(prefix) + 1})"
            f" WHERE role <> 'local' AND reason_code IS NULL"
            f" AND substr(reason, 1, {len(prefix)}) = '{prefix}'"
        )
    # The origin marks an exchange expired only on a Reject whose reason was
    # "expired", whatever its content said.
    op.execute(
        "UPDATE sel_exchanges SET reason_code = 'expired'"
        " WHERE role = 'origin' AND state = 'expired' AND reason_code IS NULL"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE sel_exchanges SET reason = reason_code || ': ' || reason"
        " WHERE reason_code IS NOT NULL AND reason IS NOT NULL"
    )
    op.execute(
        "UPDATE sel_exchanges SET reason = reason_code"
        " WHERE reason_code IS NOT NULL AND reason IS NULL"
    )
    with op.batch_alter_table("sel_exchanges", schema=None) as batch_op:
        batch_op.drop_column("reason_code")
