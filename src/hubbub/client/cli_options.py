"""Command-line options shared by ``hubbub chat`` and ``hubbub gui``: where to
connect and as whom, turned into a :class:`ClientConfig`; errors one line,
exit status 2."""

from __future__ import annotations

import getpass
import sys
from typing import Any, NoReturn

import click

from hubbub.client.config import ClientConfig
from hubbub.client.tofu import PinFileCorrupt, PinStore
from hubbub.protocol.casemap import valid_nick


class OneLineErrors(click.Command):
    """Usage errors as one line and exit status 2, as every hubbub command does."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            fail(exc.format_message())


def fail(message: str) -> NoReturn:
    ctx = click.get_current_context(silent=True)
    prog = ctx.command_path if ctx is not None else "hubbub"
    click.echo(f"{prog}: error: {message}", err=True)
    sys.exit(2)


def split_address(address: str | None) -> tuple[str, int | None]:
    """``host``, ``host:port``, ``[::1]:port`` -> (host, port or None)."""
    if not address:
        return "127.0.0.1", None
    host, port = address, ""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = rest.removeprefix(":")
    elif address.count(":") == 1:
        host, port = address.split(":")
    if not host:
        host = "127.0.0.1"
    if not port:
        return host, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad port {port!r} in {address!r}")
    return host, int(port)


def default_nick() -> str:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        return "guest"
    return name if valid_nick(name, 30) else "guest"


def build_config(
    server: str | None,
    nick: str | None,
    tls: bool,
    websocket: bool,
    join: tuple[str, ...],
    password: str | None,
    account: str | None,
    allow_plaintext_password: bool = False,
) -> ClientConfig:
    try:
        host, port = split_address(server)
    except ValueError as exc:
        fail(str(exc))
    nick = nick or default_nick()
    if not valid_nick(nick, 30):
        fail(f"{nick!r} is not a valid nickname (letters, digits and []\\`_^{{|}}-)")
    channels = [c if c.startswith(("#", "&")) else "#" + c for c in join]
    config = ClientConfig(
        host=host,
        port=port,
        nick=nick,
        tls=tls,
        websocket=websocket,
        channels=channels,
        server_password=password if password and not account else None,
        sasl_account=account,
        sasl_password=password if account else None,
        allow_plaintext_password=allow_plaintext_password,
    )
    check_pin_file(config)
    return config


def check_pin_file(config: ClientConfig) -> None:
    """An unusable pin file stops a TLS client before it connects (fail closed)."""
    if config.tls and config.tls_verify != "ca":
        try:
            PinStore(config.config_dir).load()
        except PinFileCorrupt as exc:
            fail(str(exc))


def connection_options(func: Any) -> Any:
    """The options ``hubbub chat`` and ``hubbub gui`` share."""
    for option in reversed(
        [
            click.argument("server", required=False, metavar="[HOST[:PORT]]"),
            click.option("--nick", "-n", help="Nickname (default: your user name)."),
            click.option("--tls", is_flag=True, help="Use TLS (default port 6697)."),
            click.option(
                "--websocket", is_flag=True, help="Connect over WebSocket (default port 8097)."
            ),
            click.option("--join", "-j", multiple=True, help="Channel to join (repeatable)."),
            click.option(
                "--account",
                help="Log in to this account (SASL: PLAIN over TLS, else SCRAM-SHA-256).",
            ),
            click.option(
                "--password",
                is_flag=True,
                help="Ask for a password (the account's, or the server's).",
            ),
            click.option(
                "--allow-plaintext-password",
                is_flag=True,
                help="Send the account password even where the connection is not "
                "encrypted and the server offers no SCRAM-SHA-256.",
            ),
        ]
    ):
        func = option(func)
    return func
