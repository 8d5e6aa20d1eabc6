"""Secrets shared by the nodes of a network: the first one offered is kept."""

from __future__ import annotations

from hubbub.store import Store


async def test_the_first_secret_offered_is_the_one_every_node_gets(store: Store) -> None:
    first, second = bytes(range(32)), bytes(range(1, 33))
    assert await store.secrets.adopt("cloak", first) == first
    assert await store.secrets.adopt("cloak", second) == first
    assert await store.secrets.adopt("other", second) == second
