"""Channel registrations: founder, topic, lock, modes, lists, access."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hubbub.store import AlreadyExists, ListEntry, NotFound, Store, Topic

WHEN = datetime(2024, 5, 1, 12, 30, 15, 123000, tzinfo=UTC)


async def test_register_get_list_drop(store: Store) -> None:
    registered = await store.channels.register("#Chat", "Alice")
    await store.channels.register("#aaa", "Bob")
    assert registered.name == "#Chat" and registered.founder == "Alice"
    assert registered.modes == "+nt" and registered.topic is None
    assert await store.channels.get("#CHAT") == registered
    assert [c.name for c in await store.channels.list()] == ["#aaa", "#Chat"]
    with pytest.raises(AlreadyExists):
        await store.channels.register("#chat", "Bob")
    assert await store.channels.drop("#chat")
    assert not await store.channels.drop("#chat")
    assert await store.channels.get("#chat") is None


async def test_topic_lock_modes_founder(store: Store) -> None:
    await store.channels.register("#chat", "Alice")
    await store.channels.set_topic("#Chat", Topic("Welcome", "alice!a@host", WHEN))
    await store.channels.set_topic_lock("#chat", True)
    await store.channels.set_modes("#chat", "+ntkl secret 10")
    await store.channels.set_founder("#chat", "Bob")
    channel = await store.channels.get("#chat")
    assert channel is not None
    assert channel.topic == Topic("Welcome", "alice!a@host", WHEN)
    assert channel.topic_lock and channel.modes == "+ntkl secret 10" and channel.founder == "Bob"
    await store.channels.set_topic("#chat", None)
    channel = await store.channels.get("#chat")
    assert channel is not None and channel.topic is None


async def test_ban_exception_invex_lists(store: Store) -> None:
    await store.channels.register("#chat", "Alice")
    assert await store.channels.add_list_entry("#chat", "b", "*!*@Bad.host", "alice", WHEN)
    assert not await store.channels.add_list_entry("#chat", "b", "*!*@bad.HOST", "bob")
    assert await store.channels.add_list_entry("#chat", "e", "*!*@bad.host", "alice", WHEN)
    assert await store.channels.add_list_entry("#chat", "I", "*!*@friend", "alice", WHEN)
    channel = await store.channels.get("#chat")
    assert channel is not None
    assert channel.bans == (ListEntry("*!*@Bad.host", "alice", WHEN),)
    assert channel.excepts == (ListEntry("*!*@bad.host", "alice", WHEN),)
    assert channel.invexes == (ListEntry("*!*@friend", "alice", WHEN),)
    assert await store.channels.remove_list_entry("#chat", "b", "*!*@BAD.host")
    assert not await store.channels.remove_list_entry("#chat", "b", "*!*@bad.host")
    channel = await store.channels.get("#chat")
    assert channel is not None and channel.bans == () and len(channel.excepts) == 1


async def test_access_list(store: Store) -> None:
    await store.channels.register("#chat", "Alice")
    await store.channels.set_access("#chat", "Bob", "op")
    await store.channels.set_access("#chat", "carol", "voice")
    await store.channels.set_access("#chat", "BOB", "voice")  # replaces, keeps one entry
    channel = await store.channels.get("#chat")
    assert channel is not None and dict(channel.access) == {"BOB": "voice", "carol": "voice"}
    await store.channels.set_access("#chat", "bob", None)
    channel = await store.channels.get("#chat")
    assert channel is not None and dict(channel.access) == {"carol": "voice"}
    with pytest.raises(ValueError):
        await store.channels.set_access("#chat", "bob", "owner")  # type: ignore[arg-type]


async def test_drop_removes_lists_and_access(store: Store) -> None:
    await store.channels.register("#chat", "Alice")
    await store.channels.add_list_entry("#chat", "b", "*!*@x", "alice")
    await store.channels.set_access("#chat", "bob", "op")
    await store.channels.drop("#chat")
    again = await store.channels.register("#chat", "Carol")
    assert await store.channels.get("#chat") == again
    assert again.bans == () and dict(again.access) == {}


async def test_unregistered_channel_raises_not_found(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.channels.set_topic_lock("#nope", True)
    with pytest.raises(NotFound):
        await store.channels.add_list_entry("#nope", "b", "*!*@x", "alice")
    with pytest.raises(NotFound):
        await store.channels.remove_list_entry("#nope", "b", "*!*@x")
    with pytest.raises(NotFound):
        await store.channels.set_access("#nope", "bob", "op")
