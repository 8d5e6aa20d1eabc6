"""``hubbub gui [HOST[:PORT]]``: the desktop client; the options fill the
connect dialog, ``--connect`` skips it."""

from __future__ import annotations

import getpass

import click

from hubbub.client.cli_options import OneLineErrors, build_config, connection_options
from hubbub.gui.tkroot import open_root, require_tk


@click.command(cls=OneLineErrors)
@connection_options
@click.option("--connect", "connect_now", is_flag=True, help="Connect without the dialog.")
def gui(
    server: str | None,
    nick: str | None,
    tls: bool,
    websocket: bool,
    join: tuple[str, ...],
    account: str | None,
    password: bool,
    allow_plaintext_password: bool,
    connect_now: bool,
) -> None:
    """Chat in a desktop window (Tk)."""
    require_tk("hubbub gui")
    secret = getpass.getpass("Password: ") if password else None
    config = build_config(
        server, nick, tls, websocket, join, secret, account, allow_plaintext_password
    )
    root = open_root("hubbub gui")
    from hubbub.gui.app import GuiApp

    app = GuiApp(root, config)
    if connect_now:
        app.connect(config)
    root.mainloop()
