"""Accounts (with certificate fingerprints) and channel registrations.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", RowId, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("email", sa.String(255)),
        sa.Column("registered_at", sa.BigInteger, nullable=False),
        sa.Column("scram_salt", sa.LargeBinary),
        sa.Column("scram_iterations", sa.Integer),
        sa.Column("scram_stored_key", sa.LargeBinary),
        sa.Column("scram_server_key", sa.LargeBinary),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name_key", name="uq_accounts_name_key"),
    )
    op.create_table(
        "account_certfps",
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("account_id", RowId, nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name="pk_account_certfps"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name="fk_account_certfps_account_id_accounts",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_account_certfps_account_id", "account_certfps", ["account_id"])
    op.create_table(
        "channels",
        sa.Column("id", RowId, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("name_key", sa.String(64), nullable=False),
        sa.Column("founder", sa.String(64), nullable=False),
        sa.Column("registered_at", sa.BigInteger, nullable=False),
        sa.Column("topic_text", sa.Text),
        sa.Column("topic_setter", sa.String(255)),
        sa.Column("topic_set_at", sa.BigInteger),
        sa.Column("topic_lock", sa.Boolean, nullable=False),
        sa.Column("modes", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channels"),
        sa.UniqueConstraint("name_key", name="uq_channels_name_key"),
    )
    op.create_table(
        "channel_lists",
        sa.Column("id", RowId, primary_key=True),
        sa.Column("channel_id", RowId, nullable=False),
        sa.Column("kind", sa.String(1), nullable=False),
        sa.Column("mask", sa.String(255), nullable=False),
        sa.Column("mask_key", sa.String(255), nullable=False),
        sa.Column("setter", sa.String(255), nullable=False),
        sa.Column("set_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channel_lists"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_channel_lists_channel_id_channels",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("channel_id", "kind", "mask_key", name="uq_channel_lists_channel_id"),
    )
    op.create_table(
        "channel_access",
        sa.Column("channel_id", RowId, nullable=False),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", "account_key", name="pk_channel_access"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name="fk_channel_access_channel_id_channels",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    for table in ("channel_access", "channel_lists", "channels", "account_certfps", "accounts"):
        op.drop_table(table)
