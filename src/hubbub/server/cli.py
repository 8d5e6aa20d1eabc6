"""``hubbub serve`` and ``hubbub passwd``."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import click
from pydantic import ValidationError

from hubbub.protocol.integers import ascii_int
from hubbub.server.config import Config, ConfigError, ListenSection, load_config
from hubbub.server.logging_setup import LogFormat, configure_logging
from hubbub.server.workers import as_worker, check_workers, supervise

log = logging.getLogger("hubbub")

# The collector's first threshold in `hubbub serve` (see _collect_garbage_less_often).
GC_FIRST_THRESHOLD = 10_000


def _host_port(value: str, option: str) -> tuple[str, int]:
    host, sep, text = value.rpartition(":")
    port = ascii_int(text, max_digits=5)
    if not sep or port is None or port > 65535:
        raise click.BadParameter(f"expected HOST:PORT, got {value!r}", param_hint=option)
    return host.strip("[]") or "127.0.0.1", port


def _apply_overrides(config: Config, **opts: object) -> None:
    listen: list[ListenSection] = []
    for flag, tls, ws in (
        ("listen", False, False),
        ("tls_listen", True, False),
        ("ws_listen", False, True),
    ):
        for value in opts[flag]:  # type: ignore[attr-defined]
            host, port = _host_port(str(value), "--" + flag.replace("_", "-"))
            listen.append(ListenSection(host=host, port=port, tls=tls, websocket=ws))
    if listen:
        config.listen = listen
    if opts["plain_port"] is not None:
        port = int(str(opts["plain_port"]))
        config.listen.append(ListenSection(host="127.0.0.1", port=port, protocol="plain"))
    if opts["tls_host"] is not None:
        for spec in config.listen:
            if spec.tls:
                spec.host = str(opts["tls_host"])
    if opts["data_dir"] is not None:
        config.server.data_dir = Path(str(opts["data_dir"]))
    if opts["name"] is not None:
        config.server.name = str(opts["name"])
    if opts["network"] is not None:
        config.server.network = str(opts["network"])
    if opts["no_flood_control"]:
        config.limits.flood_control = False
    if opts["metrics"] is not None:
        _set_metrics(config, str(opts["metrics"]))


def _set_metrics(config: Config, value: str) -> None:
    try:
        config.metrics.listen = value
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise click.BadParameter(reason, param_hint="--metrics") from None


def _warning_printer(log_format: LogFormat) -> Callable[[str], None]:
    """With JSON logs every line on stderr must be JSON: warnings become records."""
    if log_format == "json":
        return lambda text: log.warning(text, extra={"event": "config_warning"})
    return lambda text: click.echo(f"warning: {text}", err=True)


def _warn_about(config: Config, log_format: LogFormat) -> None:
    where = config.source or "<defaults>"
    warn = _warning_printer(log_format)
    for key in config.unknown_keys():
        if key != "source":
            warn(f"{where}: unknown key {key!r} ignored")
    for oper in config.opers:
        if not oper.password.startswith("$argon2"):
            warn(
                f"{where}: opers: password of {oper.name!r} is plain text; "
                "make a hash with `hubbub passwd`"
            )


def _describe_listeners(server: object) -> None:
    from hubbub.server.app import Server
    from hubbub.server.banner import banner_lines, hubbub_command, plain_chat_line

    assert isinstance(server, Server)
    config = server.config
    lines = banner_lines(
        name=server.name,
        network=config.server.network,
        data_dir=config.server.data_dir,
        listeners=[x for x in server.listeners if not x.plain],
        registration_open=config.accounts.registration,
        hubbub=hubbub_command(),
    )
    for listener in server.listeners:
        if listener.plain:
            lines.insert(1, plain_chat_line(listener))
    for listener, spec in zip(server.listeners, config.listen, strict=True):
        if listener.websocket and spec.web:
            scheme = "https" if listener.tls else "http"
            host = "127.0.0.1" if listener.host in ("0.0.0.0", "", "::") else listener.host
            host = f"[{host}]" if ":" in host else host
            lines.insert(1, f"  web client: open {scheme}://{host}:{listener.port}/ in a browser")
    click.echo("\n".join(lines))
    if server.observability.address is not None:
        host, port = server.observability.address
        click.echo(f"  metrics   http://{host}:{port}/metrics and /healthz")


async def _run(config: Config, reuse_port: bool = False) -> None:
    from hubbub.server.app import Server

    server = Server(config, reuse_port=reuse_port)
    loop = asyncio.get_running_loop()
    # Handlers go in before the listeners open, so no signal can slip between.
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: asyncio.ensure_future(server.stop()))
    try:
        await server.start()
    except ConfigError:
        await server.stop()
        raise
    except OSError as exc:
        await server.stop()
        raise ConfigError(f"cannot listen: {exc.strerror or exc}") from None
    _describe_listeners(server)
    await server.stopped.wait()
    click.echo("hubbub stopped.")


def _event_loop_policy(use_uvloop: bool) -> None:
    if not use_uvloop:
        return
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _collect_garbage_less_often() -> None:
    """Raise the collector's first threshold (CPython's default is 700).

    The collector counts tracked objects made minus freed. The history
    buffer holds up to ``buffer_max`` records and swings by thousands under
    load, so at 700 every swing ran collections that found nothing and
    moved the buffered records on to the oldest generation; that then took
    a full collection every second or so, 70-90 ms each with the loop
    stopped (docs/performance.md, "Full collections"). The server makes
    few reference cycles; a larger first generation still finds them."""
    _, second, third = gc.get_threshold()
    gc.set_threshold(GC_FIRST_THRESHOLD, second, third)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    help="TOML config file (optional; defaults need none).",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    help="Where the database and TLS certificate live [default: ./hubbub-data].",
)
@click.option(
    "--listen",
    multiple=True,
    metavar="HOST:PORT",
    help="Plaintext listener; repeatable. Any listener option replaces the configured listeners.",
)
@click.option("--tls-listen", multiple=True, metavar="HOST:PORT", help="TLS listener; repeatable.")
@click.option(
    "--ws-listen", multiple=True, metavar="HOST:PORT", help="IRCv3 WebSocket listener; repeatable."
)
@click.option(
    "--tls-host",
    metavar="HOST",
    help="Address of the TLS listeners; 127.0.0.1 keeps them to this machine "
    "[default: 0.0.0.0, every interface].",
)
@click.option(
    "--plain-port",
    type=click.IntRange(0, 65535),
    metavar="PORT",
    help="Also serve plain chat (nc, telnet, the tutorials' chat clients) on 127.0.0.1:PORT.",
)
@click.option("--name", help="Server name used in message prefixes, e.g. irc.example.org.")
@click.option("--network", help="Network name shown to clients.")
@click.option("--no-flood-control", is_flag=True, help="Turn flood control off (for benchmarks).")
@click.option(
    "--uvloop/--no-uvloop", default=True, show_default=True, help="Use uvloop when installed."
)
@click.option(
    "--metrics",
    metavar="HOST:PORT",
    help="Serve Prometheus /metrics and /healthz here, e.g. 127.0.0.1:9667 "
    "(a non-loopback address needs [metrics] token) [default: off].",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON object per line, for log collectors.",
)
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="Logging verbosity.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Node processes sharing the listening ports (needs [cluster] node and [database] url).",
)
@click.option("--worker-index", type=int, hidden=True)
def serve(
    config_path: Path | None,
    log_level: str,
    log_format: LogFormat,
    uvloop: bool,
    workers: int,
    worker_index: int | None,
    **opts: object,
) -> None:
    """Run the chat server.

    With no options it serves plaintext IRC on 127.0.0.1:6667, TLS on
    0.0.0.0:6697 (every interface, so others on the network can connect
    securely; self-signed certificate made in the data directory) and IRCv3
    WebSocket on 127.0.0.1:8097.
    """
    configure_logging(log_level, log_format)
    try:
        config = load_config(config_path)
        _apply_overrides(config, **opts)
        check_workers(config, workers)
        if workers > 1 and worker_index is None:
            _warn_about(config, log_format)
            sys.exit(supervise(config, workers, sys.argv[2:]))
        if worker_index is not None:
            as_worker(config, worker_index)
        else:
            _warn_about(config, log_format)
        _event_loop_policy(uvloop)
        _collect_garbage_less_often()
        asyncio.run(_run(config, reuse_port=worker_index is not None))
    except ConfigError as exc:
        click.echo(f"hubbub: {exc}", err=True)
        sys.exit(2)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
def passwd() -> None:
    """Read a password (without echo) and print its argon2id hash for the config."""
    from argon2 import PasswordHasher

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        click.echo("hubbub: passwd: the password is empty", err=True)
        sys.exit(2)
    click.echo(PasswordHasher().hash(password))
