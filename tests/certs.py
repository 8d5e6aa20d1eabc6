"""Helpers for account tests: TLS client certificates and connections using them."""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import ssl
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ircclient import TIMEOUT, RawClient


def self_signed(directory: Path, name: str) -> tuple[Path, Path, bytes]:
    """A self-signed EC certificate named ``name`` in ``directory``: (cert, key, DER)."""
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
    cert_path, key_path = write_pem(directory, name, cert, key)
    return cert_path, key_path, cert.public_bytes(serialization.Encoding.DER)


def write_pem(
    directory: Path, name: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    """Write ``name``.crt and ``name``.key (PEM, unencrypted) in ``directory``."""
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


def make_client_cert(directory: Path, name: str) -> tuple[Path, Path, str]:
    """A self-signed client certificate; returns (cert, key, sha256 hex)."""
    cert_path, key_path, der = self_signed(directory, name)
    return cert_path, key_path, hashlib.sha256(der).hexdigest()


async def tls_client(irc: Any, cert: Path | None = None, key: Path | None = None) -> RawClient:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        context.load_cert_chain(cert, key)
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", irc.port("tls"), ssl=context), TIMEOUT
    )
    client = RawClient(reader, writer)
    irc.clients.append(client)
    return client
