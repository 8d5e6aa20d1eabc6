"""The client side of SASL SCRAM-SHA-256 (RFC 5802, RFC 7677): proves the
password without sending it, so logging in over an unencrypted connection
does not hand the password to whoever listens. Pure: bytes in, bytes out."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from hubbub.protocol.saslprep import saslprep

MECHANISM = "SCRAM-SHA-256"
# A server (or a man in the middle) chooses the iteration count. Below the
# RFC 7677 minimum the proof we send is cheap to brute-force offline; far above
# it, deriving the key would freeze the client. Both are refused.
MIN_ITERATIONS = 4096
MAX_ITERATIONS = 1_000_000


class ScramError(ValueError):
    """The server's side of the exchange is malformed, unsafe or forged."""


def _escape_name(name: str) -> str:
    return name.replace("=", "=3D").replace(",", "=2C")


def _attributes(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(","):
        if len(part) < 2 or part[1] != "=":
            raise ScramError(f"malformed SCRAM attribute {part[:20]!r}")
        out.setdefault(part[0], part[2:])
    return out


class ScramClient:
    """One exchange: :meth:`first`, then :meth:`final` with the server's
    challenge, then :meth:`verify` with the server's signature."""

    def __init__(self, account: str, password: str, nonce: str | None = None) -> None:
        self._name = _escape_name(saslprep(account))
        self._password = saslprep(password).encode()
        self._nonce = nonce or secrets.token_urlsafe(18)
        self._first_bare = f"n={self._name},r={self._nonce}"
        self._server_signature: bytes | None = None

    def first(self) -> bytes:
        return f"n,,{self._first_bare}".encode()

    def final(self, server_first: bytes) -> bytes:
        try:
            text = server_first.decode()
        except UnicodeDecodeError as exc:
            raise ScramError("the server's challenge is not UTF-8") from exc
        attrs = _attributes(text)
        if "m" in attrs:
            raise ScramError("the server asks for an unsupported SCRAM extension")
        nonce, salt_b64, count = attrs.get("r", ""), attrs.get("s", ""), attrs.get("i", "")
        if not nonce.startswith(self._nonce) or len(nonce) == len(self._nonce):
            raise ScramError("the server's nonce does not extend ours")
        if not count.isdigit() or not MIN_ITERATIONS <= int(count) <= MAX_ITERATIONS:
            raise ScramError(
                f"the server asks for {count or 'no'} iterations "
                f"(accepted: {MIN_ITERATIONS} to {MAX_ITERATIONS})"
            )
        try:
            salt = base64.b64decode(salt_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ScramError("the server's salt is not base64") from exc
        if not salt:
            raise ScramError("the server sent no salt")
        salted = hashlib.pbkdf2_hmac("sha256", self._password, salt, int(count))
        client_key = hmac.digest(salted, b"Client Key", "sha256")
        stored_key = hashlib.sha256(client_key).digest()
        without_proof = f"c={base64.b64encode(b'n,,').decode()},r={nonce}"
        auth_message = f"{self._first_bare},{text},{without_proof}".encode()
        signature = hmac.digest(stored_key, auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        server_key = hmac.digest(salted, b"Server Key", "sha256")
        self._server_signature = hmac.digest(server_key, auth_message, "sha256")
        return f"{without_proof},p={base64.b64encode(proof).decode()}".encode()

    def verify(self, server_final: bytes) -> None:
        """Raise :class:`ScramError` unless the server proved it knows our key."""
        try:
            attrs = _attributes(server_final.decode())
        except UnicodeDecodeError as exc:
            raise ScramError("the server's signature is not UTF-8") from exc
        if "e" in attrs:
            raise ScramError(f"the server refused: {attrs['e']}")
        try:
            signature = base64.b64decode(attrs.get("v", ""), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ScramError("the server's signature is not base64") from exc
        expected = self._server_signature
        if expected is None or not hmac.compare_digest(signature, expected):
            raise ScramError("the server's signature is wrong: it does not know the password")
