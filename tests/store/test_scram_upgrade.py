"""SCRAM keys are made with the configured PBKDF2 rounds; keys with fewer
are replaced after a good password check, never after a wrong one."""

from __future__ import annotations

from pathlib import Path

from hubbub.store import open_store, scram_credentials
from store.conftest import CHEAP_HASHER


async def test_keys_are_upgraded_only_by_the_right_password(db_path: Path) -> None:
    store = await open_store(db_path, hasher=CHEAP_HASHER, scram_iterations=4096)
    try:
        await store.accounts.create("alice", "password-1")
    finally:
        await store.close()
    store = await open_store(db_path, hasher=CHEAP_HASHER, scram_iterations=8192)
    try:
        assert await store.accounts.verify_password("alice", "wrong-password") is None
        before = await store.accounts.get_scram("alice")
        assert before is not None and before.iterations == 4096
        assert await store.accounts.verify_password("alice", "password-1") is not None
        after = await store.accounts.get_scram("alice")
        assert after is not None and after.iterations == 8192
        assert after == scram_credentials("password-1", after.salt, 8192)
        await store.accounts.create("bob", "password-2")
        bob = await store.accounts.get_scram("bob")
        assert bob is not None and bob.iterations == 8192
    finally:
        await store.close()
