"""``hubbub serve --workers N``: N node processes of one cluster on one
machine, sharing the listening ports (SO_REUSEPORT: the kernel spreads new
connections over them), so every core serves clients.

The parent only supervises: it makes the files the workers would otherwise
race to create (the self-signed certificate, the cloak key), starts each
worker as ``hubbub serve ... --worker-index I``, passes SIGTERM/SIGINT on
to them and exits with the worst status. Worker I is cluster node
``<node>-<I>`` with server name ``w<I>.<name>``."""

from __future__ import annotations

import signal
import subprocess
import sys
from types import FrameType

from hubbub.server.cloak import load_or_create_secret
from hubbub.server.config import Config, ConfigError
from hubbub.server.net.tls import ensure_self_signed


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


def supervise(config: Config, workers: int, argv: list[str]) -> int:
    """Run ``workers`` copies of ``hubbub serve argv`` until they end."""
    data_dir = config.server.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    load_or_create_secret(data_dir)
    if any(spec.tls for spec in config.listen) and config.tls.cert is None:
        ensure_self_signed(data_dir, config.server.name)
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "hubbub", "serve", *argv, "--worker-index", str(index)]
        )
        for index in range(workers)
    ]

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    return max(child.wait() for child in children)
