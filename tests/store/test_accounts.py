"""Accounts: creation, passwords, SCRAM keys, fingerprints, case-insensitivity."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from hubbub.store import AlreadyExists, NotFound, Store, open_store, scram_credentials

CHEAP_HASHER = PasswordHasher.from_parameters(profiles.CHEAPEST)
FP = "ab" * 32
FP_COLONS = ":".join(["AB"] * 32)


async def test_create_get_list_keep_the_name_as_given(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    created = await store.accounts.create("Alice", "pw", email="alice@example.org")
    await store.accounts.create("bob", "pw")
    assert created.name == "Alice"
    assert before < created.registered_at <= datetime.now(UTC)
    assert await store.accounts.get("ALICE") == created
    assert [a.name for a in await store.accounts.list()] == ["Alice", "bob"]
    assert await store.accounts.get("carol") is None


async def test_names_are_unique_case_insensitively(store: Store) -> None:
    await store.accounts.create("Alice", "pw")
    with pytest.raises(AlreadyExists):
        await store.accounts.create("aLiCe", "pw")


@pytest.mark.parametrize("name", ["", "a b", "#chan", "x" * 65, "a,b", "nick!user"])
async def test_unusable_names_are_refused(store: Store, name: str) -> None:
    with pytest.raises(ValueError):
        await store.accounts.create(name, "pw")


async def test_empty_passwords_are_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.accounts.create("Alice", "")
    await store.accounts.create("Alice", "pw")
    with pytest.raises(ValueError):
        await store.accounts.set_password("Alice", "")


async def test_verify_password(store: Store) -> None:
    await store.accounts.create("Alice", "correct horse")
    account = await store.accounts.verify_password("alice", "correct horse")
    assert account is not None and account.name == "Alice"
    assert await store.accounts.verify_password("alice", "wrong") is None
    assert await store.accounts.verify_password("nobody", "correct horse") is None


async def test_set_password_replaces_hash_and_scram_keys(store: Store) -> None:
    await store.accounts.create("Alice", "old")
    old_scram = await store.accounts.get_scram("alice")
    await store.accounts.set_password("ALICE", "new")
    assert await store.accounts.verify_password("alice", "old") is None
    assert await store.accounts.verify_password("alice", "new") is not None
    new_scram = await store.accounts.get_scram("alice")
    assert new_scram is not None and new_scram != old_scram
    with pytest.raises(NotFound):
        await store.accounts.set_password("nobody", "x")


async def test_scram_credentials_are_stored_for_the_password(store: Store) -> None:
    await store.accounts.create("Alice", "pencil")
    stored = await store.accounts.get_scram("alice")
    assert stored is not None
    assert stored == scram_credentials("pencil", stored.salt, stored.iterations)
    assert await store.accounts.get_scram("nobody") is None


async def test_weak_hash_is_upgraded_on_login(db_path: Path) -> None:
    weak = await open_store(db_path, hasher=CHEAP_HASHER)
    await weak.accounts.create("Alice", "pw")
    await weak.close()
    stronger = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1)
    strong = await open_store(db_path, hasher=stronger)
    try:
        assert await strong.accounts.verify_password("alice", "pw") is not None
        assert await strong.accounts.verify_password("alice", "pw") is not None
    finally:
        await strong.close()
    with sqlite3.connect(db_path) as conn:
        [(stored,)] = conn.execute("SELECT password_hash FROM accounts").fetchall()
    assert "m=1024,t=2,p=1" in stored


async def test_delete_removes_account_and_fingerprints(store: Store) -> None:
    await store.accounts.create("Alice", "pw")
    await store.accounts.add_certfp("alice", FP)
    assert await store.accounts.delete("ALICE")
    assert not await store.accounts.delete("alice")
    assert await store.accounts.get("alice") is None
    assert await store.accounts.find_by_certfp(FP) is None
    await store.accounts.create("alice", "pw")
    await store.accounts.add_certfp("alice", FP)  # free again


async def test_certificate_fingerprints(store: Store) -> None:
    await store.accounts.create("Alice", "pw")
    await store.accounts.create("Bob", "pw")
    await store.accounts.add_certfp("alice", FP_COLONS)
    await store.accounts.add_certfp("alice", FP)  # same one, normalised: no-op
    await store.accounts.add_certfp("alice", "cd" * 32)
    assert await store.accounts.list_certfps("ALICE") == [FP, "cd" * 32]
    found = await store.accounts.find_by_certfp(FP_COLONS)
    assert found is not None and found.name == "Alice" and FP in found.certfps
    with pytest.raises(AlreadyExists):
        await store.accounts.add_certfp("bob", FP)
    assert not await store.accounts.remove_certfp("bob", FP)
    assert await store.accounts.remove_certfp("alice", FP_COLONS)
    assert await store.accounts.find_by_certfp(FP) is None
    assert await store.accounts.find_by_certfp("not hex") is None
    assert await store.accounts.list_certfps("nobody") == []


async def test_certfp_errors(store: Store) -> None:
    await store.accounts.create("Alice", "pw")
    with pytest.raises(ValueError):
        await store.accounts.add_certfp("alice", "abc")
    with pytest.raises(NotFound):
        await store.accounts.add_certfp("nobody", FP)
