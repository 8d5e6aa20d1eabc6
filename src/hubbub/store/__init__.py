"""Persistence for hubbub: accounts, channel registrations, server bans and
message history, behind the async ``Store`` interface (see ``interface``).

    store = await open_store(data_dir / "hubbub.db")   # migrates, starts the writer
    store.history.append(record)                        # no await: buffered
    ...
    await store.close()                                 # flushes, then closes

History in brief:

- Channel messages are filed under the folded channel name. A private
  message carries ``parties=(sender_key, recipient_key)`` (``account_party``
  of the account id if logged in, else folded nick) and is filed under
  ``conversation_key(a, b)``, the same from both sides. Asking for
  ``conversation_key(me, other)`` with ``me`` taken from the asker's own
  identity is what keeps private history private.
- Messages are ordered by (time, append order). A msgid selector must belong
  to the queried target; a timestamp selector brackets its millisecond.
- ``append`` only appends to a list; a task sends the list to the writer
  process (``writer_process``), which stores it in one transaction, every
  ``flush_interval`` seconds or ``flush_max`` messages. Queries flush first,
  so they see everything appended before them. Near ``buffer_max`` the
  history is ``congested()``: the server holds back storable messages until
  ``call_when_drained`` fires (batching.py).
- ``run_retention`` is the periodic job that applies age and per-target limits.
"""

from hubbub.store.errors import AlreadyExists, NotFound, StoreError
from hubbub.store.interface import (
    AccountMetadataStore,
    AccountStore,
    ChannelStore,
    HistoryStore,
    PresenceStore,
    ServerBanStore,
    Store,
)
from hubbub.store.keys import account_party, conversation_key, name_key
from hubbub.store.opening import open_store
from hubbub.store.passwords import scram_credentials
from hubbub.store.records import (
    MESSAGE_COMMANDS,
    AccessLevel,
    Account,
    AccountSettings,
    AlwaysOnUser,
    BanKind,
    ChannelRegistration,
    HistoryCommand,
    HistoryRecord,
    HistoryTarget,
    ListEntry,
    ListKind,
    PresenceSnapshot,
    ScramCredentials,
    Selector,
    ServerBan,
    Topic,
)
from hubbub.store.retention import run_retention

__all__ = [
    "MESSAGE_COMMANDS",
    "AccessLevel",
    "Account",
    "AccountMetadataStore",
    "AccountSettings",
    "AccountStore",
    "AlreadyExists",
    "AlwaysOnUser",
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
    "PresenceSnapshot",
    "PresenceStore",
    "ScramCredentials",
    "Selector",
    "ServerBan",
    "ServerBanStore",
    "Store",
    "StoreError",
    "Topic",
    "account_party",
    "conversation_key",
    "name_key",
    "open_store",
    "run_retention",
    "scram_credentials",
]
