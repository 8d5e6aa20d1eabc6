"""History: who took part in which private conversation, in a table of its
own instead of two indexes on every private message.

The party indexes made each stored private message update two more B-trees
at scattered places (9 of 19 us per row, measured with 500 conversations);
a row of ``history_parties`` is written once per party and conversation,
the first time they talk. CHATHISTORY TARGETS reads it to find a user's
conversations.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

PARTIES = ("party_a", "party_b")


def upgrade() -> None:
    op.create_table(
        "history_parties",
        sa.Column("party_key", sa.String(64), nullable=False),
        sa.Column("conversation_key", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("party_key", "conversation_key", name="pk_history_parties"),
    )
    op.execute(
        "INSERT INTO history_parties (party_key, conversation_key)"
        " SELECT party_a, target_key FROM history WHERE party_a IS NOT NULL"
        " UNION"
        " SELECT party_b, target_key FROM history WHERE party_b IS NOT NULL"
    )
    for column in PARTIES:
        op.drop_index(f"ix_history_{column}", table_name="history")


def downgrade() -> None:
    for column in PARTIES:
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(
            f"ix_history_{column}",
            "history",
            [column, "time_ms"],
            sqlite_where=where,
            postgresql_where=where,
        )
    op.drop_table("history_parties")
