"""History: no index on time alone.

Every stored message updated four B-trees: the table, the unique msgid, the
(target, time, id) index the queries use, and one on time alone, which only
age-based retention (off by default, at most once an hour) reads. Without
it a private-message row costs the writer 9.4 instead of 10.4 us
(docs/performance.md, "The cheaper history row"); retention by age scans
the table instead.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_history_time_ms", table_name="history")


def downgrade() -> None:
    op.create_index("ix_history_time_ms", "history", ["time_ms"])
