"""Host cloaking: the host others see is a keyed hash of the address.

The key is one secret per network, generated once in the data directory,
so a cloak is stable across reconnects and restarts while nobody without
the key can map it back to an address (a plain hash of an IPv4 address is
reversed by trying all 2^32 of them).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import os
import secrets
from pathlib import Path

from hubbub.server.config import ConfigError

SECRET_FILE = "cloak.key"
SECRET_BYTES = 32
# 16 base32 characters: 80 bits of the HMAC, Ergo's default length.
CLOAK_CHARS = 16


class CloakKeyError(ConfigError):
    """The secret file exists but cannot be used; phrased for the operator."""


def load_or_create_secret(data_dir: Path) -> bytes:
    """The network's cloak key: read ``data_dir/cloak.key``, or create it.

    Created with O_EXCL and mode 0600, so a file planted in its place or a
    second server starting at the same time is never overwritten.
    """
    path = data_dir / SECRET_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        key = secrets.token_bytes(SECRET_BYTES)
        out.write(key.hex() + "\n")
    return key


def _read_secret(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CloakKeyError(f"{path}: not a usable cloak key ({exc})") from None
    if len(key) < SECRET_BYTES:
        raise CloakKeyError(f"{path}: the cloak key is shorter than {SECRET_BYTES} bytes")
    return key


def cloak_host(key: bytes, ip: str, suffix: str) -> str:
    """``<16 base32 chars>.<suffix>`` for ``ip``, the same for every spelling
    of one address (``::ffff:10.0.0.1`` and ``10.0.0.1`` are one)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        canonical = ip
    else:
        mapped = getattr(address, "ipv4_mapped", None)
        canonical = str(mapped if mapped is not None else address)
    digest = hmac.new(key, canonical.encode(), hashlib.sha256).digest()
    label = base64.b32encode(digest).decode().lower()[:CLOAK_CHARS]
    return f"{label}.{suffix}"
