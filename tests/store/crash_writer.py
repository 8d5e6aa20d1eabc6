"""Run by test_crash: store an account and 100 messages, say so, then keep
writing until killed."""

from __future__ import annotations

import asyncio
import sys

from argon2 import PasswordHasher, profiles

from hubbub.store import open_store
from store.history_helpers import channel_message


async def main(path: str) -> None:
    hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
    store = await open_store(path, flush_interval=0.01, hasher=hasher)
    await store.accounts.create("Survivor", "pw")
    for n in range(100):
        store.history.append(channel_message(f"m{n}", n))
    await store.flush()
    print("flushed", flush=True)
    n = 100
    while True:
        store.history.append(channel_message(f"m{n}", n))
        n += 1
        await asyncio.sleep(0)


asyncio.run(main(sys.argv[1]))
