"""Account ids are never reused, and deleting an account deletes, in one
go, everything that names it (issues 11 and 12): a later account of the same
name inherits no history, channel, role or certificate."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hubbub.store import HistoryRecord, Store, conversation_key
from hubbub.store.timeutil import to_ms
from store.history_helpers import at, channel_message

FINGERPRINT = "ab" * 32


def private(msgid: str, second: float, sender: str, recipient: str, store: Store) -> HistoryRecord:
    """A private message; a party with an account is known by its id."""
    parties = (
        store.accounts.party(sender) or sender.lower(),
        store.accounts.party(recipient) or recipient.lower(),
    )
    return HistoryRecord(
        msgid, to_ms(at(second)), f"{sender}!u@h", None, recipient, "PRIVMSG", msgid, {}, parties
    )


async def conversation(store: Store, me: str, other: str) -> list[str]:
    mine, theirs = store.accounts.party(me), store.accounts.party(other) or other.lower()
    assert mine is not None
    return [r.msgid for r in await store.history.latest(conversation_key(mine, theirs), None, 50)]


def rows(db_path: Path, query: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db_path) as conn:
        return conn.execute(query).fetchall()


async def test_ids_are_never_reused(store: Store) -> None:
    await store.accounts.create("first", "password-1")
    await store.accounts.create("last", "password-1")
    last = store.accounts.party("last")
    assert await store.accounts.delete("last")
    await store.accounts.create("last", "password-1")  # same name, the highest id was freed
    await store.accounts.create("other", "password-1")
    assert last not in (store.accounts.party("last"), store.accounts.party("other"))
    parties = [store.accounts.party(name) for name in ("first", "last", "other")]
    assert parties == ["@1", "@3", "@4"]


async def test_deleting_an_account_leaves_nothing_to_its_namesake(
    store: Store, db_path: Path
) -> None:
    for name in ("alice", "bob"):
        await store.accounts.create(name, "password-1")
    await store.accounts.add_certfp("alice", FINGERPRINT)
    await store.channels.register("#alices", "Alice")
    await store.channels.add_list_entry("#alices", "b", "spam!*@*", "alice")
    await store.channels.set_access("#alices", "bob", "op")
    await store.channels.register("#bobs", "bob")
    await store.channels.set_access("#bobs", "ALICE", "op")
    store.history.append(private("a1", 1, "alice", "bob", store))
    await store.history.flush()
    store.history.append(private("b1", 2, "bob", "alice", store))  # still buffered
    store.history.append(private("b2", 3, "bob", "carol", store))  # carol: a guest
    store.history.append(channel_message("c1", 4, "#bobs"))
    assert await conversation(store, "bob", "alice") == ["a1", "b1"]

    assert await store.accounts.delete("alice")

    assert not store.accounts.exists("alice")
    assert await store.channels.get("#alices") is None
    bobs = await store.channels.get("#bobs")
    assert bobs is not None and dict(bobs.access) == {}
    assert rows(db_path, "SELECT count(*) FROM account_certfps") == [(0,)]
    assert rows(db_path, "SELECT count(*) FROM channel_lists") == [(0,)]
    # both sides of alice's conversations went; bob's others stayed
    assert rows(db_path, "SELECT msgid FROM history ORDER BY msgid") == [("b2",), ("c1",)]
    parties = rows(db_path, "SELECT party_key FROM history_parties ORDER BY party_key")
    assert parties == [(store.accounts.party("bob"),), ("carol",)]

    await store.accounts.create("Alice", "password-2")
    assert await conversation(store, "alice", "bob") == []
    assert await conversation(store, "bob", "alice") == []
    alice = store.accounts.party("alice")
    assert alice is not None
    assert await store.history.targets(alice, at(0), at(10), 10) == []
    assert await store.accounts.list_certfps("alice") == []
    assert await store.accounts.find_by_certfp(FINGERPRINT) is None
    assert [c.name for c in await store.channels.list()] == ["#bobs"]


async def test_deleting_an_unknown_account(store: Store) -> None:
    assert not await store.accounts.delete("nobody")


async def test_targets_name_accounts_by_their_current_name(store: Store) -> None:
    await store.accounts.create("Alice", "password-1")
    store.history.append(private("m1", 1, "alice", "dave", store))
    alice = store.accounts.party("alice")
    assert alice is not None
    found = await store.history.targets(alice, at(0), at(10), 10)
    assert [t.name for t in found] == ["dave"]  # a guest: its folded nick
    await store.accounts.create("dave", "password-1")
    store.history.append(private("m2", 2, "dave", "alice", store))
    dave = store.accounts.party("dave")
    assert dave is not None
    assert [t.name for t in await store.history.targets(dave, at(0), at(10), 10)] == ["Alice"]
