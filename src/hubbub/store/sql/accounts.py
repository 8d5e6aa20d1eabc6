"""Accounts, their password hashes, SCRAM keys and certificate fingerprints.

Deleting an account deletes, in the same transaction, everything that
names it: fingerprints, channel access entries, the channels it founded
(dropped, as Ergo does) and its private history; an account created later
under the same name starts with nothing."""

from __future__ import annotations

import asyncio
import builtins
import re
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hubbub.store.errors import AlreadyExists, NotFound
from hubbub.store.keys import account_party, name_key
from hubbub.store.passwords import DEFAULT_SCRAM_ITERATIONS, Passwords, scram_credentials
from hubbub.store.records import Account, ScramCredentials
from hubbub.store.schema import account_certfps, account_metadata, accounts
from hubbub.store.sql.channels import SqlChannels
from hubbub.store.sql.history import SqlHistory
from hubbub.store.sql.uncancellable import uncancellable
from hubbub.store.timeutil import from_ms, to_ms, utcnow

MAX_NAME_LENGTH = 64
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")


def check_account_name(name: str) -> None:
    """Reject names no IRC command could carry; nick rules are the server's."""
    if not name or len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"account name must be 1 to {MAX_NAME_LENGTH} characters")
    if not name.isprintable() or any(ch in name for ch in " ,*?!@:") or name[0] in "#&$":
        raise ValueError(f"invalid account name: {name!r}")


def normalise_fingerprint(fingerprint: str) -> str:
    """Lower-case hex without colons, as ``openssl x509 -fingerprint`` varies."""
    fp = fingerprint.replace(":", "").strip().lower()
    if not _FINGERPRINT.fullmatch(fp):
        raise ValueError("a certificate fingerprint is 64 hex digits (SHA-256)")
    return fp


@uncancellable
class SqlAccounts:
    def __init__(
        self,
        engine: AsyncEngine,
        passwords: Passwords,
        history: SqlHistory,
        channels: SqlChannels,
        scram_iterations: int = DEFAULT_SCRAM_ITERATIONS,
    ) -> None:
        self._engine = engine
        self._passwords = passwords
        self._history = history
        self._channels = channels
        self._scram_iterations = scram_iterations
        self._ids: dict[str, int] = {}  # name key -> id; see exists() and learn()

    async def load_names(self) -> None:
        """Read every account's name key and id once, when the store opens."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(accounts.c.name_key, accounts.c.id))
            self._ids = {key: int(account_id) for key, account_id in rows}

    def exists(self, name: str) -> bool:
        return name_key(name) in self._ids

    def party(self, name: str) -> str | None:
        account_id = self._ids.get(name_key(name))
        return None if account_id is None else account_party(account_id)

    async def find_party(self, name: str) -> str | None:
        found = self.party(name)
        if found is not None:
            return found
        query = select(accounts.c.id).where(accounts.c.name_key == name_key(name))
        async with self._engine.connect() as conn:
            account_id = (await conn.execute(query)).scalar_one_or_none()
        if account_id is None:
            return None
        self.learn(name, int(account_id))
        return account_party(int(account_id))

    def learn(self, name: str, account_id: int) -> None:
        """Remember an account whose row was read, or that another process
        sharing the database (a cluster node) says it created."""
        self._ids[name_key(name)] = account_id

    def forget(self, name: str) -> None:
        """Another process sharing the database deleted the account."""
        self._ids.pop(name_key(name), None)

    async def create(self, name: str, password: str, email: str | None = None) -> Account:
        check_account_name(name)
        secrets = await asyncio.to_thread(self._secrets, password)
        registered_at = utcnow()
        key = name_key(name)
        row = {"name": name, "name_key": key, "email": email}
        row |= {"registered_at": to_ms(registered_at)} | secrets
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(insert(accounts), row)
        except IntegrityError:
            raise AlreadyExists(f"account {name} already exists") from None
        inserted = result.inserted_primary_key
        assert inserted is not None  # a single-row insert always has one
        self._ids[key] = int(inserted[0])
        return Account(name=name, email=email, registered_at=registered_at)

    async def get(self, name: str) -> Account | None:
        found = await self._load(accounts.c.name_key == name_key(name))
        return found[0] if found else None

    async def list(self) -> builtins.list[Account]:
        return await self._load(None)

    async def delete(self, name: str) -> bool:
        key = name_key(name)
        await self._history.flush()  # so the history deleted includes what is buffered
        async with self._engine.begin() as conn:
            account_id = (
                await conn.execute(select(accounts.c.id).where(accounts.c.name_key == key))
            ).scalar_one_or_none()
            if account_id is None:
                return False
            await self._history.delete_party(conn, account_party(int(account_id)))
            await self._channels.forget_account(conn, key)
            await conn.execute(
                delete(account_certfps).where(account_certfps.c.account_id == account_id)
            )
            await conn.execute(
                delete(account_metadata).where(account_metadata.c.account_id == account_id)
            )
            await conn.execute(delete(accounts).where(accounts.c.id == account_id))
        self._ids.pop(key, None)
        return True

    async def set_password(self, name: str, password: str) -> None:
        secrets = await asyncio.to_thread(self._secrets, password)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(accounts).where(accounts.c.name_key == name_key(name)).values(secrets)
            )
        if not result.rowcount:
            raise NotFound(f"no account {name}")

    async def verify_password(self, name: str, password: str) -> Account | None:
        """After a good password, hashes made with weaker parameters than
        today's (argon2 settings, SCRAM iterations) are replaced."""
        query = select(accounts.c.id, accounts.c.password_hash, accounts.c.scram_iterations)
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(query.where(accounts.c.name_key == name_key(name)))
            ).one_or_none()
        if row is None:
            await asyncio.to_thread(self._passwords.verify, None, password)
            return None
        self.learn(name, int(row.id))  # exists() now says so: the login throttle counts it
        stored = str(row.password_hash)
        if not await asyncio.to_thread(self._passwords.verify, stored, password):
            return None
        if self._passwords.needs_rehash(stored):
            await self._rehash(name, password)
        if (row.scram_iterations or 0) < self._scram_iterations:
            await self._upgrade_scram(name, password)
        return await self.get(name)

    async def get_scram(self, name: str) -> ScramCredentials | None:
        c = accounts.c
        query = select(c.scram_salt, c.scram_iterations, c.scram_stored_key, c.scram_server_key)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query.where(c.name_key == name_key(name)))).one_or_none()
        if row is None or row.scram_salt is None:
            return None
        return ScramCredentials(
            salt=row.scram_salt,
            iterations=row.scram_iterations,
            stored_key=row.scram_stored_key,
            server_key=row.scram_server_key,
        )

    async def add_certfp(self, name: str, fingerprint: str) -> None:
        fp = normalise_fingerprint(fingerprint)
        async with self._engine.begin() as conn:
            account_id = await self._require_id(conn, name)
            owner = (
                await conn.execute(
                    select(account_certfps.c.account_id).where(account_certfps.c.fingerprint == fp)
                )
            ).scalar_one_or_none()
            if owner == account_id:
                return
            if owner is not None:
                raise AlreadyExists("fingerprint already belongs to another account")
            await conn.execute(
                insert(account_certfps), {"fingerprint": fp, "account_id": account_id}
            )

    async def remove_certfp(self, name: str, fingerprint: str) -> bool:
        fp = normalise_fingerprint(fingerprint)
        owned_by_name = select(accounts.c.id).where(accounts.c.name_key == name_key(name))
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(account_certfps).where(
                    account_certfps.c.fingerprint == fp,
                    account_certfps.c.account_id.in_(owned_by_name.scalar_subquery()),
                )
            )
        return bool(result.rowcount)

    async def list_certfps(self, name: str) -> builtins.list[str]:
        account = await self.get(name)
        return [] if account is None else builtins.list(account.certfps)

    async def find_by_certfp(self, fingerprint: str) -> Account | None:
        try:
            fp = normalise_fingerprint(fingerprint)
        except ValueError:
            return None
        owner = select(account_certfps.c.account_id).where(account_certfps.c.fingerprint == fp)
        found = await self._load(accounts.c.id.in_(owner.scalar_subquery()))
        return found[0] if found else None

    def _secrets(self, password: str) -> dict[str, Any]:
        """The columns a password sets; CPU-heavy, so run in a thread."""
        if not password:
            raise ValueError("the password is empty")
        scram = scram_credentials(password, iterations=self._scram_iterations)
        return {
            "password_hash": self._passwords.hash(password),
            "scram_salt": scram.salt,
            "scram_iterations": scram.iterations,
            "scram_stored_key": scram.stored_key,
            "scram_server_key": scram.server_key,
        }

    async def _rehash(self, name: str, password: str) -> None:
        """Upgrade a hash made with older argon2 parameters after a good login."""
        new_hash = await asyncio.to_thread(self._passwords.hash, password)
        async with self._engine.begin() as conn:
            await conn.execute(
                update(accounts)
                .where(accounts.c.name_key == name_key(name))
                .values(password_hash=new_hash)
            )

    async def _upgrade_scram(self, name: str, password: str) -> None:
        """Replace SCRAM keys made with fewer iterations than configured."""
        scram = await asyncio.to_thread(
            scram_credentials, password, iterations=self._scram_iterations
        )
        async with self._engine.begin() as conn:
            await conn.execute(
                update(accounts)
                .where(accounts.c.name_key == name_key(name))
                .values(
                    scram_salt=scram.salt,
                    scram_iterations=scram.iterations,
                    scram_stored_key=scram.stored_key,
                    scram_server_key=scram.server_key,
                )
            )

    async def _require_id(self, conn: AsyncConnection, name: str) -> int:
        query = select(accounts.c.id).where(accounts.c.name_key == name_key(name))
        account_id = (await conn.execute(query)).scalar_one_or_none()
        if account_id is None:
            raise NotFound(f"no account {name}")
        return int(account_id)

    async def _load(self, where: Any) -> builtins.list[Account]:
        """Accounts matching ``where`` (all if None) with their fingerprints,
        in two queries however many accounts there are."""
        query = select(accounts.c.id, accounts.c.name, accounts.c.email, accounts.c.registered_at)
        fps_query = select(account_certfps.c.account_id, account_certfps.c.fingerprint)
        if where is not None:
            query = query.where(where)
            fps_query = fps_query.where(
                account_certfps.c.account_id.in_(
                    query.with_only_columns(accounts.c.id).scalar_subquery()
                )
            )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query.order_by(accounts.c.name_key))).all()
            fps: defaultdict[int, builtins.list[str]] = defaultdict(builtins.list)
            for account_id, fp in await conn.execute(
                fps_query.order_by(account_certfps.c.fingerprint)
            ):
                fps[account_id].append(fp)
        for row in rows:
            self.learn(row.name, int(row.id))
        return [
            Account(
                name=row.name,
                email=row.email,
                registered_at=from_ms(row.registered_at),
                certfps=tuple(fps[row.id]),
            )
            for row in rows
        ]
