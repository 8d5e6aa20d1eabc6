"""``open_store``: the one way the server and the CLI get a Store."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher

from hubbub.store.engine import postgresql_engine, sqlite_engine
from hubbub.store.interface import Store
from hubbub.store.location import is_database_url
from hubbub.store.migrate import upgrade
from hubbub.store.passwords import DEFAULT_SCRAM_ITERATIONS
from hubbub.store.privacy import private_database
from hubbub.store.sql.store import SqlStore

FLUSH_INTERVAL = 0.2  # seconds a history message may wait in memory
# Messages that trigger a write before the interval is up. Larger batches
# share index pages between private messages of the same conversation
# (measured: 500 -> 1000 rows cut the cost per private-message row by a
# quarter); each batch is a few milliseconds on the event loop.
FLUSH_MAX = 1000
# Messages held at most between the server and the database (the bound of
# the write buffer; senders wait near it): about 10 MB of records.
BUFFER_MAX = 20_000


async def open_store(
    location: str | Path,
    *,
    flush_interval: float = FLUSH_INTERVAL,
    flush_max: int = FLUSH_MAX,
    buffer_max: int = BUFFER_MAX,
    hasher: PasswordHasher | None = None,
    scram_iterations: int = DEFAULT_SCRAM_ITERATIONS,
) -> Store:
    """Open (creating if needed) the SQLite database at path ``location``,
    or the PostgreSQL database at URL ``location`` (``postgresql://...``),
    and migrate it to the current schema. Must be called inside the event
    loop that will use the store: the history writer task starts on it.
    ``hasher`` replaces the default argon2id parameters and
    ``scram_iterations`` the PBKDF2 rounds of new SCRAM keys (tests use cheap
    ones of both); keys made with fewer rounds are replaced at the next login
    with the password."""
    if isinstance(location, str) and is_database_url(location):
        engine = postgresql_engine(location)
    else:
        path = Path(location)
        private_database(path)
        engine = sqlite_engine(path)
    try:
        await upgrade(engine)
    except BaseException:
        await engine.dispose()
        raise
    store = SqlStore(
        engine,
        flush_interval=flush_interval,
        flush_max=flush_max,
        buffer_max=buffer_max,
        hasher=hasher,
        scram_iterations=scram_iterations,
    )
    await store.accounts.load_names()
    return store
