"""The client side of SASL over a RawClient: PLAIN and SCRAM-SHA-256 (RFC 5802
/ 7677), with each SCRAM message open to tampering so tests can send exactly
the malformed or forged message a failure path needs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from ircclient import RawClient


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


async def start_sasl(client: RawClient, mechanism: str) -> None:
    await client.send(f"AUTHENTICATE {mechanism}")
    challenge = await client.expect("AUTHENTICATE")
    assert challenge.params == ["+"]


async def send_response(client: RawClient, data: bytes) -> None:
    """Send a client response in 400-byte chunks, ending with + when needed."""
    encoded = b64(data) if data else ""
    for start in range(0, len(encoded), 400):
        await client.send("AUTHENTICATE " + encoded[start : start + 400])
    if len(encoded) % 400 == 0:
        await client.send("AUTHENTICATE +")


async def one_step(client: RawClient, mechanism: str, data: bytes) -> str:
    """A one-message mechanism (PLAIN, EXTERNAL): its final numeric, 903 or 904."""
    await start_sasl(client, mechanism)
    await send_response(client, data)
    return (await client.expect(lambda m: m.command in ("903", "904"))).command


async def plain(client: RawClient, account: str, password: str) -> str:
    """Run SASL PLAIN; returns the final numeric (903 or 904)."""
    return await one_step(client, "PLAIN", f"\0{account}\0{password}".encode())


@dataclass
class ScramFirst:
    """What the client knows after the server-first message."""

    first_bare: str
    server_first: str
    nonce: str  # the combined nonce the server chose
    salt: bytes
    iterations: int

    def salted(self, password: str) -> bytes:
        return hashlib.pbkdf2_hmac("sha256", password.encode(), self.salt, self.iterations)

    def final(self, password: str, *, binding: str = "biws", nonce: str | None = None) -> str:
        """The client-final message with a correct proof for ``password``."""
        without_proof = f"c={binding},r={self.nonce if nonce is None else nonce}"
        client_key = hmac.digest(self.salted(password), b"Client Key", "sha256")
        auth_message = f"{self.first_bare},{self.server_first},{without_proof}".encode()
        signature = hmac.digest(hashlib.sha256(client_key).digest(), auth_message, "sha256")
        proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
        return f"{without_proof},p={b64(proof)}"

    def server_signature(self, password: str, final: str) -> str:
        without_proof = final.rpartition(",p=")[0]
        auth_message = f"{self.first_bare},{self.server_first},{without_proof}".encode()
        server_key = hmac.digest(self.salted(password), b"Server Key", "sha256")
        return "v=" + b64(hmac.digest(server_key, auth_message, "sha256"))


async def scram_first(client: RawClient, account: str) -> ScramFirst:
    """Start SCRAM-SHA-256 and send client-first; the server's first message."""
    await start_sasl(client, "SCRAM-SHA-256")
    client_nonce = secrets.token_urlsafe(18)
    first_bare = f"n={account},r={client_nonce}"
    await send_response(client, f"n,,{first_bare}".encode())
    reply = await client.expect("AUTHENTICATE")
    server_first = base64.b64decode(reply.params[0]).decode()
    attrs = dict(part.split("=", 1) for part in server_first.split(","))
    assert attrs["r"].startswith(client_nonce) and len(attrs["r"]) > len(client_nonce)
    return ScramFirst(
        first_bare, server_first, attrs["r"], base64.b64decode(attrs["s"]), int(attrs["i"])
    )


async def scram(client: RawClient, account: str, password: str) -> str:
    """Run SASL SCRAM-SHA-256 as RFC 5802's client; returns 903 or 904."""
    first = await scram_first(client, account)
    final = first.final(password)
    await send_response(client, final.encode())
    reply = await client.expect(lambda m: m.command in ("AUTHENTICATE", "904"))
    if reply.command == "904":
        return "904"
    assert base64.b64decode(reply.params[0]).decode() == first.server_signature(password, final)
    await client.send("AUTHENTICATE +")
    reply = await client.expect(lambda m: m.command in ("903", "904"))
    return reply.command
