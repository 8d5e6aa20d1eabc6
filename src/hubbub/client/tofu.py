"""Trust on first use for self-signed TLS servers.

The SHA-256 of a server's certificate is pinned in ``known_servers.json`` in
the user's config directory the first time we connect; later connections must
present the same certificate, or we refuse them with :class:`CertificateChanged`
(that is what a man in the middle looks like).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

PIN_FILE = "known_servers.json"


class CertificateChanged(ConnectionError):
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


def fingerprint(der: bytes) -> str:
    """Colon-separated SHA-256 of a DER certificate, as ``openssl x509 -fingerprint``."""
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


class PinStore:
    def __init__(self, directory: Path) -> None:
        self.path = directory / PIN_FILE

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, address: str) -> str | None:
        return self._load().get(address)

    def pin(self, address: str, fp: str) -> None:
        pins = self._load()
        pins[address] = fp
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(pins, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def check(self, address: str, der: bytes) -> bool:
        """Pin on first use; raise :class:`CertificateChanged` on a mismatch.
        Returns True when the certificate was pinned just now."""
        seen = fingerprint(der)
        pinned = self.get(address)
        if pinned is None:
            self.pin(address, seen)
            return True
        if pinned != seen:
            raise CertificateChanged(address, pinned, seen, self.path)
        return False
