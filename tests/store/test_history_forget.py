"""Forgetting a channel's history: ordered with the buffered messages, so a
channel re-created at once keeps its own first messages; and at start, the
history of every channel not kept."""

from __future__ import annotations

from hubbub.store import Store
from store.history_helpers import channel_message, private_message


async def texts(store: Store, target: str) -> list[str]:
    return [r.msgid for r in await store.history.latest(target, None, 50)]


async def test_forget_deletes_what_came_before_it_and_nothing_after(store: Store) -> None:
    store.history.append(channel_message("old1", 1))
    await store.history.flush()
    store.history.append(channel_message("old2", 2))  # buffered with the request
    store.history.forget("#CHAN")
    store.history.append(channel_message("new1", 3))
    store.history.append(channel_message("other", 3, target="#other"))
    assert await texts(store, "#chan") == ["new1"]
    assert await texts(store, "#other") == ["other"]


async def test_forget_alone_in_a_batch(store: Store) -> None:
    store.history.append(channel_message("old", 1))
    await store.history.flush()
    store.history.forget("#chan")
    await store.history.flush()
    assert await texts(store, "#chan") == []


async def test_forget_channels_except(store: Store) -> None:
    for msgid, target in (("a", "#kept"), ("b", "#gone"), ("c", "#Gone2")):
        store.history.append(channel_message(msgid, 1, target=target))
    store.history.append(private_message("p", 1, "alice", "bob"))
    assert await store.history.forget_channels_except(["#KEPT"]) == 2
    assert await texts(store, "#kept") == ["a"]
    assert await texts(store, "#gone") == [] and await texts(store, "#gone2") == []
    assert await texts(store, "alice bob") == ["p"]  # private history is not a channel's
