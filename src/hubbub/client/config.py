"""Connection settings of one client, with the defaults a newcomer expects."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import platformdirs

PLAIN_PORT = 6667
TLS_PORT = 6697
WEBSOCKET_PORT = 8097

TlsVerify = Literal["auto", "ca", "tofu"]


def default_config_dir() -> Path:
    return Path(platformdirs.user_config_dir("hubbub"))


@dataclass(slots=True)
class ClientConfig:
    """Where to connect and as whom.

    ``tls_verify``: "ca" verifies against the system CAs only; "tofu" pins the
    certificate's SHA-256 on first use; "auto" (default) tries the CAs and falls
    back to pinning for self-signed servers such as hubbub's default listener,
    but never for a server that had a CA-signed certificate before.
    ``tls_ca_file``: a PEM file of extra CAs to trust (a private CA).
    ``allow_plaintext_password``: send the SASL password with PLAIN even over an
    unencrypted connection to another machine (by default the client uses
    SCRAM-SHA-256 there, or refuses to log in).
    """

    host: str = "127.0.0.1"
    port: int | None = None
    nick: str = "guest"
    username: str | None = None
    realname: str = "hubbub user"
    tls: bool = False
    websocket: bool = False
    websocket_path: str = "/"
    tls_verify: TlsVerify = "auto"
    tls_ca_file: Path | None = None
    server_password: str | None = None
    sasl_account: str | None = None
    sasl_password: str | None = None
    allow_plaintext_password: bool = False
    channels: list[str] = field(default_factory=list)
    reconnect: bool = True
    reconnect_min_delay: float = 1.0
    reconnect_max_delay: float = 60.0
    flood_burst: int = 5
    flood_rate: float = 2.0
    history_on_join: int = 50
    connect_timeout: float = 10.0
    ping_interval: float = 120.0
    config_dir: Path = field(default_factory=default_config_dir)

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        if self.websocket:
            return WEBSOCKET_PORT
        return TLS_PORT if self.tls else PLAIN_PORT

    @property
    def address(self) -> str:
        return f"{self.host}:{self.effective_port}"

    @property
    def flood_control(self) -> bool:
        return self.flood_rate > 0
