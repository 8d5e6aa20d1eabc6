"""What our clients trust about a TLS server, remembered from the first connection.

``known_servers.json`` in the user's config directory maps ``host:port`` to
either the SHA-256 of a self-signed certificate (trust on first use: later
connections must present the same certificate) or ``"ca"``: the server proved
itself with a CA-signed certificate, so later connections must do so again
(it may renew its certificate, but a self-signed one is a downgrade an
attacker would try, and is refused).

The file fails closed: if it cannot be read or parsed, no TLS connection that
depends on it is made, because treating it as empty would silently trust every
attacker's certificate. It is written atomically (temporary file + rename,
mode 0600) so a crash never leaves half a file behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

PIN_FILE = "known_servers.json"
CA_VERIFIED = "ca"
_FINGERPRINT = re.compile(r"(?:[0-9A-F]{2}:){31}[0-9A-F]{2}")


class TrustError(ConnectionError):
    """A TLS connection refused by what we remember about the server; never
    retried, because retrying cannot make it safe."""


class CertificateChanged(TrustError):
    """The server presented a certificate other than the pinned one."""

    def __init__(self, address: str, pinned: str, seen: str, store: Path) -> None:
        super().__init__(
            f"WARNING: the TLS certificate of {address} has CHANGED since the last "
            f"connection (pinned sha256 {pinned[:23]}..., now {seen[:23]}...). "
            f"Someone may be intercepting the connection. If the server really got "
            f"a new certificate, remove the entry for {address} from {store}."
        )
        self.address = address
        self.pinned = pinned
        self.seen = seen
        self.store = store


class CertificateDowngrade(TrustError):
    """A server that proved itself with a CA-signed certificate before now
    presents one no CA vouches for."""

    def __init__(self, address: str, reason: str, store: Path) -> None:
        super().__init__(
            f"WARNING: {address} presented a TLS certificate no certificate authority "
            f"vouches for ({reason}), but it had a CA-signed one before. Someone may be "
            f"intercepting the connection. If the server really switched to a "
            f"self-signed certificate, remove the entry for {address} from {store}."
        )
        self.address = address
        self.store = store


class PinFileCorrupt(TrustError):
    """The pin file exists but cannot be used."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"The TLS pin file {path} cannot be used ({reason}); refusing to connect "
            f"with TLS, as every certificate would be trusted anew. Repair the file, "
            f"or delete it to trust each server again on first use."
        )
        self.path = path


def fingerprint(der: bytes) -> str:
    """Colon-separated SHA-256 of a DER certificate, as ``openssl x509 -fingerprint``."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


class PinStore:
    def __init__(self, directory: Path) -> None:
        self.path = directory / PIN_FILE

    def load(self) -> dict[str, str]:
        """All entries; raises :class:`PinFileCorrupt` unless the file is absent
        or every entry is a fingerprint or ``"ca"``."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise PinFileCorrupt(self.path, getattr(exc, "strerror", None) or str(exc)) from exc
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise PinFileCorrupt(self.path, f"not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise PinFileCorrupt(self.path, "not a JSON object")
        for address, value in data.items():
            if not isinstance(value, str) or not (
                value == CA_VERIFIED or _FINGERPRINT.fullmatch(value)
            ):
                raise PinFileCorrupt(self.path, f"bad entry for {address!r}")
        return data

    def get(self, address: str) -> str | None:
        return self.load().get(address)

    def pin(self, address: str, value: str) -> None:
        """Remember ``value`` (a fingerprint or ``"ca"``) for ``address``."""
        pins = self.load()
        pins[address] = value
        self._write(pins)

    def _write(self, pins: dict[str, str]) -> None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        text = json.dumps(pins, indent=2, sort_keys=True) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=PIN_FILE + ".", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp: mode 0600
                out.write(text)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def check(self, address: str, der: bytes) -> bool:
        """Pin a self-signed certificate on first use; raise
        :class:`CertificateChanged` on a mismatch and
        :class:`CertificateDowngrade` where a CA-signed one was seen before.
        Returns True when the certificate was pinned just now."""
        seen = fingerprint(der)
        pinned = self.get(address)
        if pinned is None:
            self.pin(address, seen)
            return True
        if pinned == CA_VERIFIED:
            raise CertificateDowngrade(address, "self-signed or unknown issuer", self.path)
        if pinned != seen:
            raise CertificateChanged(address, pinned, seen, self.path)
        return False
