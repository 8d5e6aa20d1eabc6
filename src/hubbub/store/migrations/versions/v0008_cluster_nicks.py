"""Cluster: which node's user holds each nick, network-wide.

A node claims a nick by inserting its row in a transaction before giving
it to a user; the primary key makes two nodes racing for one nick end with
exactly one winner. Single servers never write it.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_nicks",
        sa.Column("nick_key", sa.String(255), nullable=False),
        sa.Column("node", sa.String(32), nullable=False),
        sa.Column("uid", sa.String(128), nullable=False),
        sa.Column("claimed_at", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("nick_key", name="pk_cluster_nicks"),
    )
    op.create_index("ix_cluster_nicks_node", "cluster_nicks", ["node"])


def downgrade() -> None:
    op.drop_table("cluster_nicks")
