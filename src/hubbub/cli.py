"""The ``hubbub`` command. Each subcommand lives with the feature it drives and
is imported only when used, so ``hubbub chat`` never loads the server."""

from __future__ import annotations

import importlib
import sys

import click

from hubbub import __version__

# name -> "module:attribute" of a click command
SUBCOMMANDS: dict[str, str] = {
    "serve": "hubbub.server.cli:serve",
    "passwd": "hubbub.server.cli:passwd",
    "chat": "hubbub.tui.cli:chat",
    "gui": "hubbub.gui.cli:gui",
    "panel": "hubbub.panel.cli:panel",
    "bench": "hubbub.bench.cli:bench",
    "accounts": "hubbub.store.cli:accounts",
    "channels": "hubbub.store.cli:channels",
    "store": "hubbub.store.cli:store_group",
    "cluster": "hubbub.server.cluster.cli:cluster",
}

HELP_LINES: dict[str, str] = {
    "serve": "Run the chat server.",
    "passwd": "Hash a password for the config file.",
    "chat": "Terminal chat client.",
    "gui": "Desktop chat client (Tk).",
    "panel": "Server window (Tk): start, stop, watch clients.",
    "bench": "Load-test an IRC server.",
    "accounts": "Manage accounts in a data directory.",
    "channels": "List registered channels in a data directory.",
    "store": "Copy a SQLite database into PostgreSQL (store migrate --to URL).",
    "cluster": "Nodes of a cluster: hubbub cluster status.",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = SUBCOMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, HELP_LINES[name]) for name in SUBCOMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="hubbub")
def cli() -> None:
    """hubbub: a group chat server that speaks IRC, and clients for it."""


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)
