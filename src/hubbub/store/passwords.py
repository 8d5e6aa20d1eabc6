"""Password hashing: argon2id for PLAIN logins, SCRAM-SHA-256 keys (RFC 5802,
RFC 7677) so SASL SCRAM works without the server ever seeing the password."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hubbub.protocol.saslprep import saslprep
from hubbub.store.records import ScramCredentials

# PBKDF2-SHA256 rounds of new SCRAM keys. RFC 7677's minimum, 4096, lets an
# attacker holding the database test passwords far faster than argon2 does;
# 600,000 is OWASP's figure for PBKDF2-SHA256 (0.23 s of one core here,
# paid when a password is set, and by the client at each SCRAM login).
DEFAULT_SCRAM_ITERATIONS = 600_000
MIN_SCRAM_ITERATIONS = 4096  # RFC 7677
SCRAM_SALT_BYTES = 16
MIN_PASSWORD_LENGTH = 8  # the default of [accounts] min_password_length
MAX_PASSWORD_BYTES = 300  # the spec's advice: it must fit in a PRIVMSG to NickServ


def password_problem(password: str, min_length: int) -> tuple[str, str] | None:
    """Why ``password`` may not be set, as (standard-replies code, text);
    None if it may. The one rule for the server and the offline CLI."""
    if len(password) < min_length:
        return "WEAK_PASSWORD", f"Passwords must be at least {min_length} characters long"
    if len(password.encode()) > MAX_PASSWORD_BYTES:
        return (
            "UNACCEPTABLE_PASSWORD",
            f"Passwords may be at most {MAX_PASSWORD_BYTES} bytes long",
        )
    if not password.isprintable():
        return "UNACCEPTABLE_PASSWORD", "Passwords may not contain control characters"
    return None


def scram_credentials(
    password: str, salt: bytes | None = None, iterations: int = DEFAULT_SCRAM_ITERATIONS
) -> ScramCredentials:
    """StoredKey and ServerKey for ``password``. A password SASLprep rejects
    is used as raw UTF-8, as PostgreSQL does, so every password still works."""
    try:
        normalised = saslprep(password)
    except ValueError:
        normalised = password
    salt = secrets.token_bytes(SCRAM_SALT_BYTES) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", normalised.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    return ScramCredentials(
        salt=salt,
        iterations=iterations,
        stored_key=hashlib.sha256(client_key).digest(),
        server_key=hmac.digest(salted, b"Server Key", "sha256"),
    )


class Passwords:
    """Hashes and checks passwords. Checking an unknown account costs the same
    as checking a known one, so timing does not reveal which names exist."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True if ``password`` matches; ``None`` means no such account, which
        is checked against a dummy hash to spend the same time."""
        # The dummy is made on the first check of any name, known or not, so
        # even that first check does not tell the two apart.
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_hex(16))
        if stored_hash is None:
            self._check(self._dummy, password)
            return False
        return self._check(stored_hash, password)

    def _check(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True when the hash was made with weaker parameters than today's."""
        return self._hasher.check_needs_rehash(stored_hash)
