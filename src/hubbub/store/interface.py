"""The async interface the server programs against. The SQLite implementation
lives in ``hubbub.store.sql``; a PostgreSQL one can follow without callers
noticing, since nothing here names a database."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from hubbub.store.records import (
    AccessLevel,
    Account,
    AccountSettings,
    AlwaysOnUser,
    BanKind,
    ChannelRegistration,
    HistoryRecord,
    HistoryTarget,
    ListKind,
    PresenceSnapshot,
    ScramCredentials,
    Selector,
    ServerBan,
    Topic,
)
from hubbub.store.writer_stats import WriterStats


class AccountStore(Protocol):
    """Accounts, looked up case-insensitively (ASCII) and stored as given."""

    async def create(self, name: str, password: str, email: str | None = None) -> Account:
        """Raise AlreadyExists if taken, ValueError if ``name`` is unusable."""

    async def get(self, name: str) -> Account | None: ...

    def exists(self, name: str) -> bool:
        """Whether an account has this name, answered from memory: the names
        are read when the store opens, kept by create and delete, and learnt
        whenever an account's row is read (``get``, ``verify_password``,
        ``find_by_certfp``, ``find_party``), so an account that another
        process sharing the database (a cluster node) created is known from
        its first login here. Nick protection asks this at every
        registration, so it does no I/O."""

    async def load_names(self) -> None:
        """Read every account's name and id again, replacing what ``exists``
        knew (the store does it when it opens; a cluster node catching up)."""

    def learn(self, name: str, account_id: int) -> None:
        """``exists`` now says yes: another process sharing the database (a
        cluster node) created the account with this id."""

    def forget(self, name: str) -> None:
        """``exists`` now says no: another process deleted the account."""

    def party(self, name: str) -> str | None:
        """The account's key for private history (``keys.account_party`` of
        its id, never reused), from memory like ``exists``; None if no such
        account is known. Asked once per login (whose check has just read
        the account), not per message."""

    async def find_party(self, name: str) -> str | None:
        """``party``, reading the database when the account is not known
        here (created by another process since): for a name that may be any
        account's, such as an offline conversation partner's."""

    async def list(self) -> builtins.list[Account]: ...

    async def delete(self, name: str) -> bool:
        """Delete in one transaction with its fingerprints, channel access
        entries, the channels it founded and its private history (both
        sides of every conversation); False if there was no such account."""

    async def set_password(self, name: str, password: str) -> None:
        """Replace the argon2 hash and the SCRAM keys; raise NotFound."""

    async def verify_password(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is right, else None, in the same time
        whether or not the account exists."""

    async def get_scram(self, name: str) -> ScramCredentials | None: ...

    async def add_certfp(self, name: str, fingerprint: str) -> None:
        """Bind a SHA-256 fingerprint (hex, colons allowed); raise NotFound,
        AlreadyExists if another account has it, ValueError if malformed."""

    async def remove_certfp(self, name: str, fingerprint: str) -> bool: ...

    async def list_certfps(self, name: str) -> builtins.list[str]: ...

    async def find_by_certfp(self, fingerprint: str) -> Account | None: ...


class AccountMetadataStore(Protocol):
    """The IRCv3 metadata of accounts (``display-name``, ``avatar``, ...).
    Unknown accounts read as empty and are ignored by the setters."""

    async def load(self, account: str) -> dict[str, str]: ...

    async def set(self, account: str, key: str, value: str | None) -> None:
        """Set ``key``, or delete it with None."""

    async def clear(self, account: str) -> None: ...


class ChannelStore(Protocol):
    """ChanServ registrations. Every setter raises NotFound for a channel
    that is not registered."""

    async def register(self, channel: str, founder: str) -> ChannelRegistration:
        """Raise AlreadyExists if the channel is registered."""

    async def get(self, channel: str) -> ChannelRegistration | None: ...

    async def list(self) -> builtins.list[ChannelRegistration]: ...

    async def drop(self, channel: str) -> bool: ...

    async def rename(self, channel: str, new: str) -> None:
        """The registration of ``channel`` now names ``new`` (RENAME)."""

    async def set_founder(self, channel: str, account: str) -> None: ...

    async def set_topic(self, channel: str, topic: Topic | None) -> None: ...

    async def set_topic_lock(self, channel: str, locked: bool) -> None: ...

    async def set_modes(self, channel: str, modes: str) -> None: ...

    async def add_list_entry(
        self, channel: str, kind: ListKind, mask: str, setter: str, set_at: datetime | None = None
    ) -> bool:
        """Add to +b/+e/+I; False if the mask (case-insensitively) is there."""

    async def remove_list_entry(self, channel: str, kind: ListKind, mask: str) -> bool: ...

    async def set_access(self, channel: str, account: str, level: AccessLevel | None) -> None:
        """Grant ``level`` to ``account``, or revoke with None."""


class ServerBanStore(Protocol):
    """K-lines (user@host masks) and D-lines (IP addresses or CIDR ranges)."""

    async def add(
        self,
        kind: BanKind,
        mask: str,
        reason: str,
        setter: str,
        duration: timedelta | None = None,
    ) -> ServerBan:
        """Add or replace; ``duration`` None is permanent. ValueError if the
        mask does not fit the kind. D-line masks come back normalised."""

    async def remove(self, kind: BanKind, mask: str) -> bool: ...

    async def list_active(self, kind: BanKind | None = None) -> builtins.list[ServerBan]:
        """Bans in force now; expired ones are deleted on the way."""


class HistoryStore(Protocol):
    """Message history for IRCv3 chathistory.

    ``target`` in queries is a channel name or ``keys.conversation_key(me,
    other)``; results are in chronological order. A msgid selector unknown
    in that target gives an empty result. ``messages_only`` keeps PRIVMSG and
    NOTICE (no TAGMSG, no channel events): the limit counts only those."""

    writer_stats: WriterStats  # the write-behind buffer's figures (metrics, /healthz)

    def append(self, record: HistoryRecord) -> None:
        """Buffer the record; a writer task stores it within the flush interval.
        Never refuses: the caller keeps to the bound by waiting while
        ``congested()``."""

    async def flush(self) -> None: ...

    def congested(self) -> bool:
        """Whether the write buffer is near its bound: the server must not
        process more storable messages until ``call_when_drained`` fires."""

    def call_when_drained(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` (once) when the congestion is over; at once if
        there is none."""

    def forget(self, target: str) -> None:
        """Delete the channel's history appended so far, in order with the
        buffered messages (a channel that emptied: its next incarnation
        must not read it)."""

    async def rename_target(self, channel: str, new: str) -> None:
        """File the history of ``channel`` under ``new`` (RENAME), after
        what is buffered."""

    async def forget_channels_except(self, keep: Iterable[str]) -> int:
        """Delete the history of every channel not in ``keep``."""

    async def latest(
        self, target: str, after: Selector | None, limit: int, *, messages_only: bool = False
    ) -> builtins.list[HistoryRecord]: ...

    async def before(
        self, target: str, selector: Selector, limit: int, *, messages_only: bool = False
    ) -> builtins.list[HistoryRecord]: ...

    async def after(
        self, target: str, selector: Selector, limit: int, *, messages_only: bool = False
    ) -> builtins.list[HistoryRecord]: ...

    async def around(
        self, target: str, selector: Selector, limit: int, *, messages_only: bool = False
    ) -> builtins.list[HistoryRecord]: ...

    async def between(
        self,
        target: str,
        start: Selector,
        end: Selector,
        limit: int,
        *,
        messages_only: bool = False,
    ) -> builtins.list[HistoryRecord]: ...

    def redact(self, msgid: str) -> None:
        """Delete one message, in order with the buffered ones (REDACT)."""

    async def find(self, msgid: str) -> HistoryRecord | None:
        """The stored message ``msgid`` (buffered ones included), or None."""

    async def start_boot(self) -> int:
        """A boot number no server sharing this database had before: a
        server's event ids, and so its msgids, begin with it
        (protocol/msgid.py)."""

    async def targets(
        self,
        viewer: str,
        start: datetime,
        end: datetime,
        limit: int,
        channels: Iterable[str] = (),
    ) -> builtins.list[HistoryTarget]:
        """Conversations of ``viewer`` (its party key) and the given
        ``channels`` with messages in the window, ordered by latest message;
        the other party is named by account name or, a guest, folded nick."""

    async def delete_older_than(self, age: timedelta) -> int:
        """Retention by age; returns how many messages went."""

    async def trim_per_target(self, max_messages: int) -> int:
        """Keep only the newest ``max_messages`` of every target."""


class SecretStore(Protocol):
    """Secrets the nodes of one network share (the cloak key)."""

    async def adopt(self, name: str, candidate: bytes) -> bytes:
        """The stored secret ``name``, or ``candidate``, stored, if there is none."""


class PresenceStore(Protocol):
    """What an account keeps across its devices and restarts (issue 16):
    read markers, MULTICLIENT/ALWAYS-ON settings, named devices' last-seen
    times, always-on users. Small: read whole at start, then written
    through. A write for an account that does not exist does nothing."""

    async def load(self) -> PresenceSnapshot: ...

    async def set_read_marker(self, account: str, target_key: str, target: str, ms: int) -> None:
        """Keep the later of the stored and the given time."""

    async def set_settings(self, account: str, settings: AccountSettings) -> None: ...

    async def device_seen(self, account: str, device: str, ms: int) -> None: ...

    async def save_always_on(self, user: AlwaysOnUser) -> None: ...

    async def forget_always_on(self, account: str) -> None: ...


class Store(Protocol):
    """Everything the server persists, behind one handle from ``open_store``."""

    @property
    def accounts(self) -> AccountStore: ...

    @property
    def channels(self) -> ChannelStore: ...

    @property
    def metadata(self) -> AccountMetadataStore: ...

    @property
    def bans(self) -> ServerBanStore: ...

    @property
    def history(self) -> HistoryStore: ...

    @property
    def presence(self) -> PresenceStore: ...

    @property
    def secrets(self) -> SecretStore: ...

    async def flush(self) -> None:
        """Write buffered history now."""

    async def close(self) -> None:
        """Flush everything and release the database."""
