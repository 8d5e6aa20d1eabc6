"""Secrets shared by the nodes of a network: the cloak key (docs/cluster.md).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_secrets",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_network_secrets"),
    )


def downgrade() -> None:
    op.drop_table("network_secrets")
