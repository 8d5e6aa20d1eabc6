"""History: the msgid derived from the row id; boot numbers.

A message's msgid is now the text form of its row id (protocol/msgid.py:
``H`` and the hex of boot << 40 | counter), so its row stores NULL as
msgid and inserting it updates no msgid index: a private-message row cost
the writer 9.4 us with the unique msgid index (docs/performance.md, "The
cheaper history row"). The rows stored before keep their msgid, under a
partial unique index (msgid IS NOT NULL), and their ids, all below the
first derived id (checked here).

``boots`` hands out the boot numbers, one per server start.

On SQLite the history table is rebuilt (a column cannot lose NOT NULL in
place); on PostgreSQL the column and the index are altered.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from alembic.util import CommandError

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FIRST_DERIVED_ID = 1 << 40  # protocol.msgid.FIRST_ID, as of this revision
_DERIVED = sa.column("msgid").isnot(None)


def upgrade() -> None:
    highest = op.get_bind().execute(sa.text("SELECT MAX(id) FROM history")).scalar()
    if highest is not None and highest >= FIRST_DERIVED_ID:
        raise CommandError(f"history row id {highest} is in the range of derived msgids")
    op.create_table(
        "boots",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_boots"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("history") as batch:
        batch.drop_constraint("uq_history_msgid", type_="unique")
        batch.alter_column("msgid", existing_type=sa.String(64), nullable=True)
    op.create_index(
        "uq_history_msgid",
        "history",
        ["msgid"],
        unique=True,
        sqlite_where=_DERIVED,
        postgresql_where=_DERIVED,
    )


def downgrade() -> None:
    """Derived msgids are written out as text again."""
    op.execute("UPDATE history SET msgid = 'H' || CAST(id AS TEXT) WHERE msgid IS NULL")
    op.drop_index("uq_history_msgid", table_name="history")
    with op.batch_alter_table("history") as batch:
        batch.alter_column("msgid", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_history_msgid", ["msgid"])
    op.drop_table("boots")
