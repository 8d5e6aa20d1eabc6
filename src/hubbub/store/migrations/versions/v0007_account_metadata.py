"""Account metadata: the IRCv3 metadata keys (avatar, display-name, ...) a
logged-in user set, found again at the next login.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_metadata",
        sa.Column(
            "account_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.ForeignKey(
                "accounts.id",
                ondelete="CASCADE",
                name="fk_account_metadata_account_id_accounts",
            ),
            nullable=False,
        ),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "key", name="pk_account_metadata"),
    )


def downgrade() -> None:
    op.drop_table("account_metadata")
