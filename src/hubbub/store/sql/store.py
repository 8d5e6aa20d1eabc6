"""The SQL store: its parts sharing one engine, started and closed together."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy.ext.asyncio import AsyncEngine

from hubbub.store.passwords import Passwords
from hubbub.store.sql.accounts import SqlAccounts
from hubbub.store.sql.bans import SqlServerBans
from hubbub.store.sql.channels import SqlChannels
from hubbub.store.sql.history import SqlHistory
from hubbub.store.sql.metadata import SqlAccountMetadata
from hubbub.store.sql.presence import SqlPresence
from hubbub.store.sql.secrets import SqlSecrets


class SqlStore:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        flush_interval: float,
        flush_max: int,
        buffer_max: int,
        hasher: PasswordHasher | None,
        scram_iterations: int,
    ) -> None:
        self._engine = engine
        self._channels = SqlChannels(engine)
        self._bans = SqlServerBans(engine)
        self._metadata = SqlAccountMetadata(engine)
        self._history = SqlHistory(engine, flush_interval, flush_max, buffer_max)
        self._accounts = SqlAccounts(
            engine, Passwords(hasher), self._history, self._channels, scram_iterations
        )
        self._presence = SqlPresence(engine)
        self._secrets = SqlSecrets(engine)
        self._history.start()

    @property
    def accounts(self) -> SqlAccounts:
        return self._accounts

    @property
    def channels(self) -> SqlChannels:
        return self._channels

    @property
    def metadata(self) -> SqlAccountMetadata:
        return self._metadata

    @property
    def bans(self) -> SqlServerBans:
        return self._bans

    @property
    def history(self) -> SqlHistory:
        return self._history

    @property
    def presence(self) -> SqlPresence:
        return self._presence

    @property
    def secrets(self) -> SqlSecrets:
        return self._secrets

    async def flush(self) -> None:
        await self._history.flush()

    async def close(self) -> None:
        try:
            await self._history.close()
        finally:
            await self._engine.dispose()
