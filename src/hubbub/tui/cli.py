"""``hubbub chat [HOST[:PORT]]``: start the terminal client, or line mode when
asked to (``--plain``) or when not attached to a terminal."""

from __future__ import annotations

import asyncio
import getpass
import sys

import click

from hubbub.client.cli_options import OneLineErrors, build_config, connection_options


@click.command(cls=OneLineErrors)
@connection_options
@click.option("--plain", is_flag=True, help="Line mode: read stdin, print to stdout.")
def chat(
    server: str | None,
    nick: str | None,
    tls: bool,
    websocket: bool,
    join: tuple[str, ...],
    account: str | None,
    password: bool,
    allow_plaintext_password: bool,
    plain: bool,
) -> None:
    """Chat in the terminal. Without HOST: 127.0.0.1 and the default port."""
    secret = getpass.getpass("Password: ") if password else None
    config = build_config(
        server, nick, tls, websocket, join, secret, account, allow_plaintext_password
    )
    if plain or not (sys.stdin.isatty() and sys.stdout.isatty()):
        from hubbub.tui.plain import run_plain

        try:
            sys.exit(asyncio.run(run_plain(config)))
        except KeyboardInterrupt:
            sys.exit(130)
    from hubbub.tui.app import ChatApp

    ChatApp(config).run()
