"""One account, many devices: read markers, per-account settings, named
devices and always-on users (issue 16).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _account_id(table: str) -> tuple[sa.Column[int], sa.ForeignKeyConstraint]:
    column = sa.Column(
        "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
    )
    foreign_key = sa.ForeignKeyConstraint(
        ["account_id"],
        ["accounts.id"],
        ondelete="CASCADE",
        name=f"fk_{table}_account_id_accounts",
    )
    return column, foreign_key


def upgrade() -> None:
    op.create_table(
        "read_markers",
        *_account_id("read_markers"),
        sa.Column("target_key", sa.String(255), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("time_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "target_key", name="pk_read_markers"),
    )
    op.create_table(
        "account_settings",
        *_account_id("account_settings"),
        sa.Column("multiclient", sa.Boolean()),
        sa.Column("always_on", sa.Boolean()),
        sa.PrimaryKeyConstraint("account_id", name="pk_account_settings"),
    )
    op.create_table(
        "account_devices",
        *_account_id("account_devices"),
        sa.Column("device", sa.String(64), nullable=False),
        sa.Column("last_seen_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "device", name="pk_account_devices"),
    )
    op.create_table(
        "always_on_users",
        *_account_id("always_on_users"),
        sa.Column("nick", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("realname", sa.String(255), nullable=False),
        sa.Column("modes", sa.String(32), nullable=False),
        sa.Column("channels", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_always_on_users"),
    )


def downgrade() -> None:
    for table in ("always_on_users", "account_devices", "account_settings", "read_markers"):
        op.drop_table(table)
