"""``hubbub serve --workers N``: N node processes of one cluster on one
machine, sharing the listening ports (SO_REUSEPORT: the kernel spreads new
connections over them), so every core serves clients.

The parent only supervises: it makes the files the workers would otherwise
race to create (the self-signed certificate, the cloak key), starts each
worker as ``hubbub serve ... --worker-index I``, starts again a worker that
dies (``Restarts``), passes SIGTERM/SIGINT on to them and exits with the
worst status. Worker I is cluster node ``<node>-<I>`` with server name
``w<I>.<name>``; a restarted worker is a new run of that node, which the
other nodes take as a node restart (docs/cluster.md, "Failures")."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from types import FrameType

from hubbub.server.cloak import load_or_create_secret
from hubbub.server.config import Config, ConfigError
from hubbub.server.net.tls import ensure_self_signed

log = logging.getLogger(__name__)

USAGE_ERROR = 2  # a worker's exit status for a config or usage error: not restarted
FIRST_DELAY = 1.0  # seconds before a crashed worker is started again
MAX_DELAY = 30.0  # the delay doubles while a worker keeps crashing, up to this
STEADY_AFTER = 60.0  # a worker that ran this long crashed afresh: the delay starts over
POLL_INTERVAL = 0.2  # seconds between looks at the workers


def check_workers(config: Config, workers: int) -> None:
    if workers > 1 and config.cluster.node is None:
        where = config.source or "<config>"
        raise ConfigError(
            f"{where}: --workers {workers}: the workers are nodes of one cluster;"
            " set [cluster] node and [database] url"
        )


def as_worker(config: Config, index: int) -> None:
    """Make ``config`` the config of worker ``index``."""
    assert config.cluster.node is not None
    config.cluster.node = f"{config.cluster.node}-{index}"
    config.server.name = f"w{index}.{config.server.name}"


class Restarts:
    """When to start a crashed worker again: after ``FIRST_DELAY``, doubling
    while it keeps dying soon after starting (a worker that cannot run does
    not spin), back to ``FIRST_DELAY`` once it has run ``STEADY_AFTER``."""

    def __init__(self) -> None:
        self.delay = FIRST_DELAY

    def after_crash(self, ran_for: float) -> float:
        """Seconds to wait before the next start of a worker that ran ``ran_for``."""
        if ran_for >= STEADY_AFTER:
            self.delay = FIRST_DELAY
        delay = self.delay
        self.delay = min(self.delay * 2, MAX_DELAY)
        return delay


class Worker:
    """One worker process and its restarts."""

    def __init__(self, index: int, argv: list[str]) -> None:
        self.index = index
        self.command = [
            sys.executable,
            "-m",
            "hubbub",
            "serve",
            *argv,
            "--worker-index",
            str(index),
        ]
        self.restarts = Restarts()
        self.process = self._start()
        self.restart_at: float | None = None  # when a crashed worker is due to start again

    def _start(self) -> subprocess.Popen[bytes]:
        self.started = time.monotonic()
        return subprocess.Popen(self.command)

    def check(self, stopping: bool) -> int | None:
        """Restart the worker if it crashed and its turn has come; its exit
        status once it has ended for good (stopping, or a usage error)."""
        status = self.process.poll()
        if status is None:
            return None
        if stopping or status == USAGE_ERROR:
            return status
        now = time.monotonic()
        if self.restart_at is None:
            delay = self.restarts.after_crash(now - self.started)
            log.warning(
                "worker %d exited with status %s; starting it again in %.0f s",
                self.index,
                status,
                delay,
            )
            self.restart_at = now + delay
        elif now >= self.restart_at:
            self.restart_at = None
            self.process = self._start()
        return None


def supervise(config: Config, workers: int, argv: list[str]) -> int:
    """Run ``workers`` copies of ``hubbub serve argv`` until they are told
    to stop (their worst status), or one of them finds a usage error."""
    data_dir = config.server.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    load_or_create_secret(data_dir)
    if any(spec.tls for spec in config.listen) and config.tls.cert is None:
        ensure_self_signed(data_dir, config.server.name)
    children = [Worker(index, argv) for index in range(workers)]
    stopping = False

    def forward(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.process.poll() is None:
                child.process.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while True:
        statuses = [child.check(stopping) for child in children]
        if USAGE_ERROR in statuses and not stopping:
            forward(signal.SIGTERM, None)  # the others have the same config
            continue
        if all(status is not None for status in statuses):
            return max(status for status in statuses if status is not None)
        time.sleep(POLL_INTERVAL)
