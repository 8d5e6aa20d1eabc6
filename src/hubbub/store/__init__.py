"""Persistence for hubbub: accounts, channel registrations, server bans and
message history, behind the async ``Store`` interface.

Use ``store = await open_store(path)`` and ``await store.close()`` at exit."""

from hubbub.store.errors import AlreadyExists, NotFound, StoreError
from hubbub.store.interface import (
    AccountStore,
    ChannelStore,
    HistoryStore,
    ServerBanStore,
    Store,
)
from hubbub.store.keys import conversation_key, name_key
from hubbub.store.opening import open_store
from hubbub.store.passwords import scram_credentials
from hubbub.store.records import (
    AccessLevel,
    Account,
    BanKind,
    ChannelRegistration,
    HistoryCommand,
    HistoryRecord,
    HistoryTarget,
    ListEntry,
    ListKind,
    ScramCredentials,
    Selector,
    ServerBan,
    Topic,
)
from hubbub.store.retention import run_retention

__all__ = [
    "AccessLevel",
    "Account",
    "AccountStore",
    "AlreadyExists",
    "BanKind",
    "ChannelRegistration",
    "ChannelStore",
    "HistoryCommand",
    "HistoryRecord",
    "HistoryStore",
    "HistoryTarget",
    "ListEntry",
    "ListKind",
    "NotFound",
    "ScramCredentials",
    "Selector",
    "ServerBan",
    "ServerBanStore",
    "Store",
    "StoreError",
    "Topic",
    "conversation_key",
    "name_key",
    "open_store",
    "run_retention",
    "scram_credentials",
]
