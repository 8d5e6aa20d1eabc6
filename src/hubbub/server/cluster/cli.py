"""``hubbub cluster status``: the live nodes of a network, from their
heartbeat keys on the bus (a node missing here has stopped, or has been
silent for longer than ``[cluster] node_timeout``)."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click
from redis.asyncio import Redis
from redis.exceptions import RedisError

from hubbub.server.cluster.bus import node_statuses
from hubbub.server.config import ConfigError, load_config


@click.group()
def cluster() -> None:
    """Nodes of a cluster (docs/cluster.md)."""


@cluster.command()
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A node's config file: its [cluster] bus and [server] network.",
)
@click.option("--bus", help="Redis URL of the bus (default: the config's [cluster] bus).")
@click.option("--network", help="Network name (default: the config's [server] network).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per node.")
def status(config: Path | None, bus: str | None, network: str | None, as_json: bool) -> None:
    """List the live nodes: name, server name, users, seconds since the last heartbeat."""
    try:
        settings = load_config(config)
    except ConfigError as exc:
        click.echo(f"hubbub: error: {exc}", err=True)
        sys.exit(2)
    url = bus or settings.cluster.bus
    name = network or settings.server.network
    try:
        nodes = asyncio.run(_read(url, name))
    except (RedisError, OSError) as exc:
        click.echo(f"hubbub: error: cannot read the bus at {url}: {exc}", err=True)
        sys.exit(2)
    now = time.time()
    if as_json:
        for node in nodes:
            click.echo(json.dumps(node))
        return
    if not nodes:
        click.echo(f"no live nodes in network {name}")
        return
    click.echo("node\tserver\tusers\tlast heartbeat\tpid")
    for node in nodes:
        age = now - float(node.get("heartbeat", now))
        click.echo(
            f"{node.get('node')}\t{node.get('server')}\t{node.get('users')}\t"
            f"{age:.1f}s ago\t{node.get('pid')}"
        )


async def _read(url: str, network: str) -> list[dict[str, Any]]:
    redis: Redis = Redis.from_url(url, decode_responses=True)
    try:
        return await node_statuses(redis, network)
    finally:
        await redis.aclose()
