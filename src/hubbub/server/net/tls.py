"""TLS contexts, and the self-signed certificate made on first start."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hubbub.server.config import ConfigError
from hubbub.server.net.client_cert import request_client_certificates
from hubbub.store.privacy import private_dir, restrict


def ensure_self_signed(data_dir: Path, hostname: str) -> tuple[Path, Path]:
    """Return (cert, key) in ``data_dir``, generating them when missing.

    Raises ConfigError when a path to write is taken by anything but a
    regular file (a planted symlink must not make us truncate its target).
    """
    cert_path = data_dir / "tls-cert.pem"
    key_path = data_dir / "tls-key.pem"
    if cert_path.is_file() and key_path.is_file():
        if not key_path.is_symlink():
            restrict(key_path)
        return cert_path, key_path
    for path in (cert_path, key_path):
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise ConfigError(
                f"{path}: exists and is not a regular file (a symlink?); not overwriting it."
                " Remove it to have a certificate generated, or set [tls] cert and key"
            )
        path.unlink(missing_ok=True)  # half of a pair: made again with its partner
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName(hostname),
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    private_dir(data_dir)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(key_path, key_bytes, 0o600)
    _write_new(cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert_path, key_path


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path``; never through a symlink, never over an existing file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    except FileExistsError:
        raise ConfigError(
            f"{path}: appeared while the certificate was made; not overwriting it"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    request_client_certificates(context)  # for SASL EXTERNAL
    return context


def certificate_fingerprint(cert: Path) -> str:
    der = x509.load_pem_x509_certificate(cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()
