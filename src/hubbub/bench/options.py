"""The benchmark's settings, validated in one place so that every bad
combination is reported as one readable line before any socket is opened."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Scenario(enum.StrEnum):
    """What the clients do once connected (same meaning as in ircload)."""

    CONNECT = "connect"
    FANOUT = "fanout"
    DIRECT = "direct"
    IDLE = "idle"


class OptionError(ValueError):
    """A bad option value; its message is shown to the user as is."""


MAX_MSG_SIZE = 400  # an IRC line is 512 bytes including prefix and command


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """Everything one run needs. ``senders=None`` means the scenario default.

    ``extra_ports`` spread the clients over several listeners (the nodes of
    a cluster): client i connects to ``ports[i % len(ports)]``, so the two
    clients of a direct pair land on different nodes. ``extra_server_pids``
    are those nodes' processes, measured together with ``server_pid``."""

    scenario: Scenario = Scenario.FANOUT
    host: str = "127.0.0.1"
    port: int = 6667
    extra_ports: tuple[int, ...] = ()
    clients: int = 100
    channels: int = 1
    senders: int | None = None
    rate: float = 0.0
    window: int = 16
    msg_size: int = 64
    duration: float = 10.0
    warmup: float = 2.0
    tls: bool = False
    server_pid: int | None = None
    extra_server_pids: tuple[int, ...] = ()
    conn_window: int = 4096
    conn_start: int = 8
    join_window: int = 64
    syn_timeout: float = 0.2
    setup_timeout: float = 300.0
    drain_timeout: float = 10.0
    stall_timeout: float = 5.0
    max_backlog: int = 4 << 20
    nick_prefix: str = "b"
    # Log every client in with SASL PLAIN as the account named like its nick,
    # with this password: the server stores only logged-in users' private
    # messages, so "direct" measures storing them only with this.
    login: str | None = None

    @property
    def closed_loop(self) -> bool:
        return self.rate <= 0

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port, *self.extra_ports)

    @property
    def server_pids(self) -> tuple[int, ...]:
        """Every server process to read CPU and memory of (none: no readings)."""
        first = () if self.server_pid is None else (self.server_pid,)
        return (*first, *self.extra_server_pids)

    @property
    def sender_count(self) -> int:
        """How many clients send (0 in connect and idle)."""
        if self.scenario in (Scenario.CONNECT, Scenario.IDLE):
            return 0
        if self.senders is not None:
            return self.senders
        if self.scenario is Scenario.DIRECT:
            return self.clients
        return min(self.clients, 10)

    def validate(self) -> BenchOptions:
        """Raise :class:`OptionError` for the first bad value, else return self."""
        checks: list[tuple[bool, str]] = [
            *((1 <= p <= 65535, f"--port must be 1..65535, not {p}") for p in self.ports),
            (self.clients >= 1, "--clients must be at least 1"),
            (self.channels >= 1, "--channels must be at least 1"),
            (self.channels <= self.clients, "--channels cannot exceed --clients"),
            (self.senders is None or self.senders >= 0, "--senders cannot be negative"),
            (
                self.senders is None or self.senders <= self.clients,
                f"--senders ({self.senders}) cannot exceed --clients ({self.clients})",
            ),
            (self.rate >= 0, "--rate cannot be negative"),
            (self.window >= 1, "--window must be at least 1"),
            (
                0 <= self.msg_size <= MAX_MSG_SIZE,
                f"--msg-size must be 0..{MAX_MSG_SIZE}",
            ),
            (self.duration > 0, "--duration must be greater than 0"),
            (self.warmup >= 0, "--warmup cannot be negative"),
            (self.conn_window >= 1, "--conn-window must be at least 1"),
            (self.join_window >= 1, "--join-window must be at least 1"),
            (all(pid > 0 for pid in self.server_pids), "--server-pid must be positive"),
            (bool(self.nick_prefix) and " " not in self.nick_prefix, "--nick-prefix is empty"),
        ]
        for ok, message in checks:
            if not ok:
                raise OptionError(message)
        return self
