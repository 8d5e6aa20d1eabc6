"""Typed, validated configuration read from TOML (the documented interface).

Every key of the documented format is kept exactly; unknown keys produce a
warning naming them. A bad file raises :class:`ConfigError` whose message is
one line naming the file and the key.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from hubbub.protocol.casemap import valid_channel
from hubbub.store.location import is_database_url
from hubbub.store.passwords import (
    DEFAULT_SCRAM_ITERATIONS,
    MIN_PASSWORD_LENGTH,
    MIN_SCRAM_ITERATIONS,
)


class ConfigError(Exception):
    """A configuration problem, already phrased for the person who wrote it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="allow", validate_assignment=True)


class ServerSection(_Section):
    name: str = "irc.hubbub.local"
    network: str = "hubbub"
    description: str = "hubbub chat server"
    motd: str | None = None
    motd_file: Path | None = None
    password: str | None = None
    data_dir: Path = Path("hubbub-data")
    admin_location: str = "hubbub"
    admin_email: str = "admin@localhost"
    # Host cloaking: others see an HMAC of the address (key: data_dir/cloak.key)
    # ending in `.cloak_suffix`, never the IP; opers and the user see the IP.
    cloak: bool = True
    cloak_suffix: str = "hubbub"

    @field_validator("cloak_suffix")
    @classmethod
    def _suffix_is_host_like(cls, value: str) -> str:
        labels = value.split(".")
        if not all(part.isascii() and part.replace("-", "").isalnum() for part in labels):
            raise ValueError("must be letters, digits, '-' and '.', e.g. hubbub or ip.example")
        return value

    @field_validator("name")
    @classmethod
    def _name_has_no_spaces(cls, value: str) -> str:
        if not value or " " in value or "." not in value:
            raise ValueError("must be a host-like name such as irc.example.org")
        return value


class ListenSection(_Section):
    host: str = "127.0.0.1"
    port: int = Field(6667, ge=0, le=65535)
    tls: bool = False
    websocket: bool = False
    # With websocket = true: also serve the web client on plain HTTP GETs
    # (HTTPS when tls = true). false: the listener is a bare IRCv3 WebSocket.
    web: bool = True
    # "plain": plain chat for clients that speak no IRC (nc, telnet, the
    # tutorials' clients; server/plainchat/), over plain TCP only.
    protocol: Literal["irc", "plain"] = "irc"

    @model_validator(mode="after")
    def _plain_is_bare_tcp(self) -> ListenSection:
        if self.protocol == "plain" and (self.tls or self.websocket):
            raise ValueError('protocol = "plain" is plain TCP: it cannot have tls or websocket')
        return self


class TlsSection(_Section):
    cert: Path | None = None
    key: Path | None = None


class DatabaseSection(_Section):
    path: Path | None = None
    # "postgresql://user@host:port/name": PostgreSQL instead of the SQLite
    # file at `path` (needed by a cluster: every node shares it).
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _postgresql_url(cls, value: str | None) -> str | None:
        if value is not None and not is_database_url(value):
            raise ValueError("must be a PostgreSQL URL such as postgresql://user@host:5432/hubbub")
        return value


class ClusterSection(_Section):
    """Nodes sharing one network (docs/cluster.md). Without `node`: no cluster."""

    # This node's unique name, e.g. "n1"; absent: a single server.
    node: str | None = None
    # The bus between nodes (Redis pub/sub).
    bus: str = "redis://127.0.0.1:6379/0"
    # Seconds between heartbeats, and how long a silent node counts as alive.
    heartbeat_interval: float = Field(1.0, gt=0, le=60)
    node_timeout: float = Field(6.0, gt=0, le=600)

    @field_validator("node")
    @classmethod
    def _node_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}", value):
            raise ValueError("must be 1 to 32 letters, digits, '-' or '_', e.g. n1")
        return value

    @field_validator("bus")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a Redis URL such as redis://127.0.0.1:6379/0")
        return value


class LimitsSection(_Section):
    flood_control: bool = True
    throttle: bool = True
    nicklen: int = Field(30, ge=1, le=200)
    channellen: int = Field(64, ge=2, le=200)
    topiclen: int = Field(390, ge=1, le=400)
    awaylen: int = Field(390, ge=1, le=400)
    kicklen: int = Field(390, ge=1, le=400)
    userlen: int = Field(18, ge=1, le=64)
    max_channels_per_user: int = Field(100, ge=1)
    max_list_entries: int = Field(100, ge=1)
    monitor: int = Field(100, ge=1)
    targmax: int = Field(4, ge=1, le=100)
    sendq: int = Field(96 * 1024, ge=4096)
    ping_interval: float = Field(90.0, gt=0)
    ping_timeout: float = Field(120.0, gt=0)
    registration_timeout: float = Field(60.0, gt=0)
    # fakelag token bucket: `flood_burst` lines at once, then `flood_rate`/s
    flood_burst: int = Field(10, ge=1)
    flood_rate: float = Field(4.0, gt=0)
    flood_max_queue: int = Field(40, ge=1)
    max_clients: int = Field(10000, ge=1)
    max_per_ip: int = Field(20, ge=1)
    throttle_connections: int = Field(10, ge=1)
    throttle_window: float = Field(60.0, gt=0)
    exempt: list[str] = Field(default_factory=lambda: ["127.0.0.0/8", "::1/128"])
    # Seconds a TLS or WebSocket connection, already counted against the
    # limits above at accept, may take to finish its handshake before it is closed.
    handshake_timeout: float = Field(10.0, gt=0)
    # draft/multiline: what one batch may hold (advertised in the cap value),
    # and the seconds it may stay open before it is dropped.
    multiline_max_bytes: int = Field(4096, ge=512, le=65536)
    multiline_max_lines: int = Field(32, ge=2, le=1000)
    multiline_timeout: float = Field(30.0, gt=0)


def parse_duration(value: str | int | float | None) -> float | None:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"12h"``, ``"30d"``, ``"2w"``; None/0 = off."""
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("must not be negative")
        return float(value)
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    text = value.strip().lower()
    number, unit = (text[:-1], text[-1]) if text[-1:] in units else (text, "s")
    try:
        amount = float(number)
    except ValueError:
        raise ValueError("expected a duration such as 90s, 15m, 12h, 30d or 2w") from None
    if amount < 0:
        raise ValueError("must not be negative")
    return amount * units[unit]


class AccountsSection(_Section):
    registration: bool = True
    require_email: bool = False
    registration_before_connect: bool = True
    # "delay": rename after nick_protection_delay seconds; "strict": at once; "off"
    nick_protection: Literal["delay", "strict", "off"] = "delay"
    nick_protection_delay: float = Field(30.0, ge=0)
    # SASL PLAIN over a plaintext listener is refused except from loopback;
    # the same rule covers every command carrying a password (REGISTER, IDENTIFY, SET)
    plaintext_sasl: bool = False
    # Shortest password accepted wherever one is set: REGISTER, NickServ
    # REGISTER and SET PASSWORD, `hubbub accounts create|passwd`.
    min_password_length: int = Field(MIN_PASSWORD_LENGTH, ge=1, le=300)
    # PBKDF2 rounds of new SCRAM-SHA-256 keys (sent to clients as i=); older
    # keys with fewer are replaced at the next PLAIN/IDENTIFY login.
    scram_iterations: int = Field(DEFAULT_SCRAM_ITERATIONS, ge=MIN_SCRAM_ITERATIONS)
    # --- login throttling (server/login_throttle.py, server/password_guard.py) ---
    # (read at the first login after start; REHASH does not change them)
    # Token buckets: every password/certificate attempt takes a token from its
    # account's bucket and its IP's (IPv6: its /64), a success gives it back;
    # one token returns every `login_refill` seconds. Empty bucket: refused.
    login_attempts_per_account: int = Field(5, ge=1)
    login_attempts_per_ip: int = Field(10, ge=1)
    login_refill: float = Field(60.0, gt=0)
    # buckets kept in memory; when full, the least recently used is forgotten
    login_throttle_entries: int = Field(10000, ge=1)
    # password hashes (argon2, 64 MiB each) running at once server-wide, and
    # waiting for a turn; an attempt beyond both is refused as "busy", not queued
    max_concurrent_hashes: int = Field(1, ge=1)
    max_waiting_hashes: int = Field(64, ge=0)
    # flood-control tokens a connection pays per password hash it asks for
    hash_flood_cost: float = Field(4.0, ge=0)
    # accounts one IP may create: a bucket of this many, one back per `registration_refill` s
    registrations_per_ip: int = Field(3, ge=1)
    registration_refill: float = Field(1200.0, gt=0)
    # --- one account, many devices (server/multiclient.py) ---
    # Connections logged in to one account that ask for its user's nick
    # share that user (one nick, channels, away); an account may turn it
    # off with NickServ SET MULTICLIENT OFF.
    multiclient: bool = True
    # Whether a user stays on the network with no device connected:
    # "opt-in" (NickServ SET ALWAYS-ON ON), "opt-out" (on unless turned
    # off), "mandatory" (always), "disabled" (never; SET ALWAYS-ON refused).
    always_on: Literal["opt-in", "opt-out", "mandatory", "disabled"] = "opt-in"


class HistorySection(_Section):
    enabled: bool = True
    autoreplay_lines: int = Field(0, ge=0, le=1000)
    max_age: str | int | float | None = None
    max_messages_per_target: int = Field(0, ge=0)
    chathistory_limit: int = Field(1000, ge=1)
    flush_interval: float = Field(0.2, gt=0, le=10)
    retention_interval: float = Field(3600.0, gt=0)
    # Messages held in memory on their way to the database (buffered plus the
    # batch being written). Near it, senders of messages wait (their lines
    # are read later) until the writer catches up; nothing is dropped.
    buffer_max: int = Field(20_000, ge=256, le=1_000_000)
    # How long a user may REDACT their own messages (0: any time).
    redaction_window: str | int | float | None = "1h"
    # A named device (alice@phone) that connects again gets what it missed
    # since it was last connected: at most this many messages per target.
    missed_replay_max: int = Field(1000, ge=0, le=100_000)

    @field_validator("max_age", "redaction_window")
    @classmethod
    def _duration(cls, value: str | int | float | None) -> str | int | float | None:
        parse_duration(value)
        return value

    @property
    def max_age_seconds(self) -> float | None:
        return parse_duration(self.max_age)

    @property
    def redaction_window_seconds(self) -> float | None:
        return parse_duration(self.redaction_window)


class ChannelsSection(_Section):
    # INVITE by a channel operator: how long it stays usable (seconds), and
    # how many may be pending per channel (at the bound the oldest is dropped).
    invite_expiry: float = Field(3600.0, gt=0)
    max_invites: int = Field(100, ge=1)


class MetadataSection(_Section):
    """IRCv3 metadata (draft/metadata-3): the limits advertised in the cap value."""

    # keys one client may subscribe to; keys set on one user or channel
    max_subs: int = Field(100, ge=1, le=1000)
    max_keys: int = Field(20, ge=1, le=1000)
    # UTF-8 bytes of one value: a 761 reply carrying it must fit in 512 bytes
    max_value_bytes: int = Field(300, ge=1, le=300)
    # a JOIN sends the channel's and its members' metadata up to this many
    # members; beyond, RPL_METADATASYNCLATER asks the client to SYNC
    join_sync_members: int = Field(200, ge=0)


class WebSection(_Section):
    """The web client (src/hubbub/web). A browser's WebSocket is accepted only
    from the page's own origin or one listed here, e.g. "https://chat.example.org"
    (scheme://host[:port], as the browser sends it in Origin). On a loopback
    listener the page's own origin counts only under a loopback name
    (localhost, 127.0.0.1, [::1]): against DNS rebinding."""

    allowed_origins: list[str] = Field(default_factory=list)
    # Show avatars (metadata key "avatar") from https: addresses: the viewer's
    # browser fetches each image from the address another user set, which
    # tells that host the viewer's IP address (docs/security.md). false: the
    # page's CSP allows images only from this server and data: URLs, and the
    # client shows data: avatars and initials only.
    remote_avatars: bool = True

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, values: list[str]) -> list[str]:
        pattern = re.compile(
            r"^https?://[a-z0-9.-]+(?::[0-9]{1,5})?$|^https?://\[[0-9a-f:.]+\](?::[0-9]{1,5})?$"
        )
        normal = [value.strip().lower().rstrip("/") for value in values]
        for value in normal:
            if not pattern.match(value):
                raise ValueError(f"{value!r} is not an origin such as https://chat.example.org")
        return normal


# --- metrics and health check (server/metrics_http.py, docs/operations.md) ---
def parse_host_port(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or ``:PORT`` (127.0.0.1); ValueError if not."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT such as 127.0.0.1:9667, got {value!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name may resolve to anything: treat it as public


class MetricsSection(_Section):
    # "HOST:PORT" serving GET /metrics (Prometheus) and GET /healthz; absent: off.
    # A host other than loopback (127.0.0.0/8, ::1, localhost) needs `token`.
    listen: str | None = None
    # when set, both paths require the header "Authorization: Bearer <token>"
    token: str | None = Field(None, min_length=16)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_host_port(value)
        return value

    @model_validator(mode="after")
    def _public_needs_token(self) -> MetricsSection:
        if self.address is not None and not is_loopback(self.address[0]) and not self.token:
            raise ValueError(
                f"listen: {self.listen} is not a loopback address; set metrics.token "
                "(at least 16 characters) so that only your Prometheus can read it"
            )
        return self

    @property
    def address(self) -> tuple[str, int] | None:
        return parse_host_port(self.listen) if self.listen is not None else None


class PlainSection(_Section):
    """Plain chat (``protocol = "plain"`` listeners): the channel its users are
    in, and whether they get their own channel messages back (the Tk client
    of the first tutorial shows only what the server sends)."""

    channel: str = "#lobby"
    echo: bool = True

    @field_validator("channel")
    @classmethod
    def _channel_name(cls, value: str) -> str:
        if not valid_channel(value, 64):
            raise ValueError("must be a channel name such as #lobby")
        return value


class OperSection(_Section):
    name: str
    password: str
    host: str = "*@*"


def _default_listeners() -> list[ListenSection]:
    return [
        ListenSection(host="127.0.0.1", port=6667),
        ListenSection(host="0.0.0.0", port=6697, tls=True),
        ListenSection(host="127.0.0.1", port=8097, websocket=True),
    ]


class Config(_Section):
    server: ServerSection = Field(default_factory=ServerSection)
    listen: list[ListenSection] = Field(default_factory=_default_listeners)
    tls: TlsSection = Field(default_factory=TlsSection)
    database: DatabaseSection = Field(default_factory=DatabaseSection)
    cluster: ClusterSection = Field(default_factory=ClusterSection)
    limits: LimitsSection = Field(default_factory=LimitsSection)
    accounts: AccountsSection = Field(default_factory=AccountsSection)
    history: HistorySection = Field(default_factory=HistorySection)
    channels: ChannelsSection = Field(default_factory=ChannelsSection)
    metadata: MetadataSection = Field(default_factory=MetadataSection)
    web: WebSection = Field(default_factory=WebSection)
    metrics: MetricsSection = Field(default_factory=MetricsSection)
    plain: PlainSection = Field(default_factory=PlainSection)
    opers: list[OperSection] = Field(default_factory=list)
    source: Path | None = None

    @property
    def database_path(self) -> Path:
        return self.database.path or self.server.data_dir / "hubbub.db"

    @property
    def database_location(self) -> str | Path:
        """What ``open_store`` takes: the PostgreSQL URL, else the SQLite file."""
        return self.database.url or self.database_path

    def motd_lines(self) -> list[str]:
        if self.server.motd_file is not None:
            try:
                text = self.server.motd_file.read_text(encoding="utf-8")
            except OSError:
                return []
        elif self.server.motd is not None:
            text = self.server.motd
        else:
            text = f"Welcome to {self.server.network}. Be kind; have fun."
        return text.splitlines() or [""]

    def unknown_keys(self) -> list[str]:
        """Dotted names of keys this version does not know (for a warning)."""
        found: list[str] = []

        def walk(model: BaseModel, prefix: str) -> None:
            for key in model.model_extra or {}:
                found.append(prefix + key)
            for name in type(model).model_fields:
                value = getattr(model, name)
                if isinstance(value, BaseModel):
                    walk(value, f"{prefix}{name}.")
                elif isinstance(value, list):
                    for i, item in enumerate(value):
                        if isinstance(item, BaseModel):
                            walk(item, f"{prefix}{name}[{i}].")

        walk(self, "")
        return found


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"])
    return f"{key}: {error['msg']}"


def parse_config(data: dict[str, Any], source: Path | None = None) -> Config:
    where = str(source) if source else "<config>"
    try:
        config = Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_describe(exc.errors()[0])}") from None
    base = source.parent if source else Path.cwd()
    # Relative paths in a config file are relative to that file.
    if source is not None:
        if not config.server.data_dir.is_absolute() and "data_dir" in data.get("server", {}):
            config.server.data_dir = base / config.server.data_dir
        if config.database.path is not None and not config.database.path.is_absolute():
            config.database.path = base / config.database.path
        if config.server.motd_file is not None and not config.server.motd_file.is_absolute():
            config.server.motd_file = base / config.server.motd_file
        for attr in ("cert", "key"):
            value = getattr(config.tls, attr)
            if value is not None and not value.is_absolute():
                setattr(config.tls, attr, base / value)
    _check_files(config, where)
    return config


def _check_files(config: Config, where: str) -> None:
    if (config.tls.cert is None) != (config.tls.key is None):
        missing = "tls.key" if config.tls.key is None else "tls.cert"
        raise ConfigError(f"{where}: {missing}: cert and key must be given together")
    for attr in ("cert", "key"):
        value = getattr(config.tls, attr)
        if value is not None and not value.is_file():
            raise ConfigError(f"{where}: tls.{attr}: file not found: {value}")
    motd_file = config.server.motd_file
    if motd_file is not None and not motd_file.is_file():
        raise ConfigError(f"{where}: server.motd_file: file not found: {motd_file}")
    if not config.listen:
        raise ConfigError(f"{where}: listen: at least one [[listen]] section is needed")
    if config.cluster.node is not None and config.database.url is None:
        raise ConfigError(
            f"{where}: cluster.node: the nodes of a cluster share one PostgreSQL database;"
            " set [database] url"
        )


def load_config(path: Path | None) -> Config:
    """Read ``path`` (or return the defaults when None)."""
    if path is None:
        return parse_config({})
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: TOML syntax error: {exc}") from None
    return parse_config(data, path.resolve())
