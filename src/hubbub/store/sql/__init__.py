"""The store implemented with SQLAlchemy Core on an async engine. The queries
are portable; only ``hubbub.store.engine`` knows it is SQLite."""
