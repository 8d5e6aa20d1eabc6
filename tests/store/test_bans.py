"""Server bans: K-lines, D-lines, expiry."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from hubbub.store import Store


async def test_add_list_remove(store: Store) -> None:
    kline = await store.bans.add("K", "*@bad.example", "spam", "oper")
    dline = await store.bans.add("D", "192.0.2.0/24", "flood", "oper", timedelta(hours=1))
    assert kline.expires_at is None
    assert dline.expires_at is not None and dline.expires_at - dline.set_at == timedelta(hours=1)
    assert await store.bans.list_active() == [kline, dline]
    assert await store.bans.list_active("D") == [dline]
    assert await store.bans.remove("K", "*@BAD.example")
    assert not await store.bans.remove("K", "*@bad.example")
    assert await store.bans.list_active() == [dline]


async def test_dline_masks_are_normalised(store: Store) -> None:
    assert (await store.bans.add("D", "192.0.2.7", "r", "o")).mask == "192.0.2.7/32"
    assert (await store.bans.add("D", "2001:DB8::1/64", "r", "o")).mask == "2001:db8::/64"
    assert await store.bans.remove("D", "192.0.2.7/32")


async def test_adding_again_replaces(store: Store) -> None:
    await store.bans.add("K", "*@x", "old reason", "oper")
    await store.bans.add("K", "*@X", "new reason", "oper2", timedelta(minutes=5))
    [ban] = await store.bans.list_active()
    assert ban.reason == "new reason" and ban.setter == "oper2"


async def test_expired_bans_are_ignored_and_removed(store: Store) -> None:
    await store.bans.add("K", "*@short", "r", "o", timedelta(milliseconds=20))
    await store.bans.add("K", "*@long", "r", "o", timedelta(hours=1))
    await asyncio.sleep(0.05)
    assert [ban.mask for ban in await store.bans.list_active()] == ["*@long"]
    assert not await store.bans.remove("K", "*@short")  # already deleted


@pytest.mark.parametrize(("kind", "mask"), [("D", "not-an-ip"), ("K", "nohost"), ("K", "a@")])
async def test_bad_masks(store: Store, kind: str, mask: str) -> None:
    with pytest.raises(ValueError):
        await store.bans.add(kind, mask, "r", "o")  # type: ignore[arg-type]
