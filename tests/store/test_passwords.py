"""Password hashing and the SCRAM-SHA-256 key derivation, against RFC vectors."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from argon2 import PasswordHasher, profiles

from hubbub.protocol.saslprep import saslprep
from hubbub.store import scram_credentials
from hubbub.store.passwords import DEFAULT_SCRAM_ITERATIONS, Passwords

# RFC 7677 section 3: user "user", password "pencil".
SALT = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
NONCE = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
AUTH_MESSAGE = (
    f"n=user,r=rOprNGfwEbeRWgbNEkqO,r={NONCE},s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r={NONCE}"
).encode()
CLIENT_PROOF = base64.b64decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
SERVER_SIGNATURE = base64.b64decode("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")


def test_scram_keys_match_rfc7677_example() -> None:
    creds = scram_credentials("pencil", SALT, 4096)
    assert hmac.digest(creds.server_key, AUTH_MESSAGE, "sha256") == SERVER_SIGNATURE
    client_signature = hmac.digest(creds.stored_key, AUTH_MESSAGE, "sha256")
    client_key = bytes(a ^ b for a, b in zip(CLIENT_PROOF, client_signature, strict=True))
    assert hashlib.sha256(client_key).digest() == creds.stored_key


def test_scram_salts_are_random_and_keys_differ() -> None:
    first, second = scram_credentials("pencil"), scram_credentials("pencil")
    assert first.salt != second.salt
    assert first.stored_key != second.stored_key
    assert first.iterations == DEFAULT_SCRAM_ITERATIONS == 600_000


def test_scram_uses_saslprep_and_survives_prohibited_characters() -> None:
    assert scram_credentials("I\u00adX", SALT) == scram_credentials("IX", SALT)
    # saslprep refuses BEL: the password's raw UTF-8 is used as it is
    salted = hashlib.pbkdf2_hmac("sha256", b"bell\x07", SALT, DEFAULT_SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    creds = scram_credentials("bell\x07", SALT)
    assert creds.stored_key == hashlib.sha256(client_key).digest()
    assert creds.server_key == hmac.digest(salted, b"Server Key", "sha256")


@pytest.mark.parametrize(
    ("given", "expected"),
    [("I\u00adX", "IX"), ("user", "user"), ("\u00aa", "a"), ("\u2168", "IX"), ("a\u00a0b", "a b")],
)
def test_saslprep_rfc4013_examples(given: str, expected: str) -> None:
    assert saslprep(given) == expected


@pytest.mark.parametrize("given", ["\u0007", "\u0627\u0031"])
def test_saslprep_rejects_prohibited_and_mixed_bidi(given: str) -> None:
    with pytest.raises(ValueError):
        saslprep(given)


def test_default_hasher_is_argon2id() -> None:
    stored = Passwords().hash("hunter2")
    assert stored.startswith("$argon2id$")


def test_verify() -> None:
    passwords = Passwords(PasswordHasher.from_parameters(profiles.CHEAPEST))
    stored = passwords.hash("hunter2")
    assert passwords.verify(stored, "hunter2")
    assert not passwords.verify(stored, "hunter3")
    assert not passwords.verify(None, "hunter2")
    assert not passwords.verify("not a hash", "hunter2")
