"""Helpers for tests that drive hubbub clients against a real hubbub server:
library peers, free ports, throwaway self-signed certificates. Imported by the
client, terminal and desktop client tests."""

from __future__ import annotations

import asyncio
import datetime
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hubbub.client import Client, ClientConfig

PeerFactory = Callable[..., Awaitable[Client]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_cert(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, as hubbub generates by default."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{name}.crt", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def client_config(port: int, nick: str, config_dir: Path, **options: object) -> ClientConfig:
    config = ClientConfig(
        host="127.0.0.1", port=port, nick=nick, config_dir=config_dir, reconnect=False
    )
    for key, value in options.items():
        setattr(config, key, value)
    return config


async def settle(server: Any, timeout: float = 2.0) -> None:
    """Wait for the server's background jobs (started by our connections) to
    finish, so stopping it never cancels one in the middle of a store call."""
    for _ in range(int(timeout / 0.01)):
        if not server.tasks:
            return
        await asyncio.sleep(0.01)


@asynccontextmanager
async def peers(irc: Any, config_dir: Path) -> AsyncIterator[PeerFactory]:
    """Connected library clients on the running test server: ``await make("alice")``."""
    made: list[Client] = []

    async def make(nick: str, **options: object) -> Client:
        client = Client(client_config(irc.port(), nick, config_dir, **options))
        made.append(client)
        await client.connect()
        return client

    yield make
    for client in made:
        await client.close()
    await settle(irc.server)
