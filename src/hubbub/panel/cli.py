"""``hubbub panel``: open the server window."""

from __future__ import annotations

from pathlib import Path

import click


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to serve on.")
@click.option(
    "--port",
    default=6667,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to serve on.",
)
@click.option(
    "--plain-port",
    type=click.IntRange(0, 65535),
    help="Also serve plain chat (nc, telnet, the tutorials' chat clients) on this port.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=Path("hubbub-data"),
    show_default=True,
    help="Data directory of the server.",
)
@click.option("--start", is_flag=True, help="Start the server as soon as the window opens.")
def panel(host: str, port: int, plain_port: int | None, data_dir: Path, start: bool) -> None:
    """Server window: Start/Stop, address and port, live list of clients."""
    from hubbub.gui.tkroot import open_root

    root = open_root("hubbub panel")
    from hubbub.panel.window import PanelWindow

    window = PanelWindow(root, host=host, port=port, plain_port=plain_port, data_dir=data_dir)
    if start:
        root.after(100, window.start)
    root.mainloop()
