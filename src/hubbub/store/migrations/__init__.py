"""Alembic migrations, run by ``hubbub.store.migrate`` at every open.

To change the schema: edit ``schema.py``, then add ``versions/vNNNN_what.py``
(copy the newest one; set ``revision`` and ``down_revision``; write the
``op.*`` calls, in batch mode for SQLite ALTERs). ``test_migrations`` fails
until the migrated database matches ``schema.py``. Never edit a released
revision: databases out there are already at it."""
