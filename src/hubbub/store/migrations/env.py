"""Alembic environment. hubbub runs migrations itself at open, handing over a
live connection in ``config.attributes["connection"]``; there is no alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from hubbub.store.schema import metadata

connection: Connection = context.config.attributes["connection"]
# Batch mode lets later revisions alter SQLite tables (copy-and-move).
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
