"""Server bans (K-lines, D-lines) and message history.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "server_bans",
        sa.Column("id", RowId, primary_key=True),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("mask", sa.String(255), nullable=False),
        sa.Column("mask_key", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("setter", sa.String(255), nullable=False),
        sa.Column("set_at", sa.BigInteger, nullable=False),
        sa.Column("expires_at", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_server_bans"),
        sa.UniqueConstraint("kind", "mask_key", name="uq_server_bans_kind"),
    )
    op.create_index("ix_server_bans_expires_at", "server_bans", ["expires_at"])
    op.create_table(
        "history",
        sa.Column("id", RowId, primary_key=True),
        sa.Column("msgid", sa.String(64), nullable=False),
        sa.Column("target_key", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("sender", sa.String(512), nullable=False),
        sa.Column("account", sa.String(64)),
        sa.Column("command", sa.String(8), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        sa.Column("party_a", sa.String(64)),
        sa.Column("party_b", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_history"),
        sa.UniqueConstraint("msgid", name="uq_history_msgid"),
    )
    op.create_index("ix_history_time_ms", "history", ["time_ms"])
    op.create_index("ix_history_target_time", "history", ["target_key", "time_ms", "id"])
    op.create_index("ix_history_party_a", "history", ["party_a", "time_ms"])
    op.create_index("ix_history_party_b", "history", ["party_b", "time_ms"])


def downgrade() -> None:
    op.drop_table("history")
    op.drop_table("server_bans")
