"""``hubbub gui [HOST[:PORT]]``: the desktop client; the options fill the
connect dialog, ``--connect`` skips it."""

from __future__ import annotations

import getpass
import os
import sys

import click

from hubbub.client.cli_options import OneLineErrors, build_config, connection_options


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
    try:
        import tkinter as tk
    except ImportError:
        click.echo("hubbub gui: error: Tk is not installed (try: apt install python3-tk)", err=True)
        sys.exit(2)
    secret = getpass.getpass("Password: ") if password else None
    config = build_config(
        server, nick, tls, websocket, join, secret, account, allow_plaintext_password
    )
    try:
        root = tk.Tk()
    except tk.TclError as exc:
        display = os.environ.get("DISPLAY", "not set")
        click.echo(f"hubbub gui: error: cannot open a window (DISPLAY={display}): {exc}", err=True)
        sys.exit(2)
    from hubbub.gui.app import GuiApp

    app = GuiApp(root, config)
    if connect_now:
        app.connect(config)
    root.mainloop()
