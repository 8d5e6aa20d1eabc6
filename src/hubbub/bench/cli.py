"""``hubbub bench``: option parsing and output; the work is in runner.py."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any

import click

from hubbub.bench.options import BenchOptions, OptionError, Scenario
from hubbub.bench.progress import Progress
from hubbub.bench.report import Result
from hubbub.bench.runner import Runner

_EXIT_USAGE = 2


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed: its transports cost about half as much CPU."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(opts: BenchOptions, progress: Progress | None = None) -> Result:
    """Run one benchmark to completion (raises OptionError on bad settings)."""
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        coro: Coroutine[Any, Any, Result] = Runner(opts.validate(), progress).run()
        return runner.run(coro)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--scenario",
    type=click.Choice([s.value for s in Scenario]),
    default=Scenario.FANOUT.value,
    show_default=True,
    help="connect: register N clients; fanout: channel messages; "
    "direct: private messages in pairs; idle: connect, join, sit.",
)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    "ports",
    type=int,
    multiple=True,
    default=[6667],
    show_default=True,
    help="Repeat to spread the clients round robin over several ports (cluster nodes).",
)
@click.option("--clients", type=int, default=100, show_default=True)
@click.option(
    "--channels", type=int, default=1, show_default=True, help="Client i joins #bench<i % K>."
)
@click.option(
    "--senders", type=int, default=None, help="Clients 0..S-1 send [fanout: 10, direct: all]."
)
@click.option(
    "--rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Open loop: messages/s over all senders; 0 = closed loop with --window.",
)
@click.option(
    "--window",
    type=int,
    default=16,
    show_default=True,
    help="Closed loop: un-observed messages per sender.",
)
@click.option("--msg-size", type=int, default=64, show_default=True, help="Message text bytes.")
@click.option("--duration", type=float, default=10.0, show_default=True, help="Measured seconds.")
@click.option("--warmup", type=float, default=2.0, show_default=True, help="Seconds before.")
@click.option("--tls", is_flag=True, help="Connect with TLS (certificate not verified).")
@click.option(
    "--server-pid",
    "server_pids",
    type=int,
    multiple=True,
    help="Read server RSS and CPU from /proc; repeat for several nodes (summed).",
)
@click.option("--conn-window", type=int, default=4096, show_default=True, hidden=True)
@click.option("--join-window", type=int, default=64, show_default=True, hidden=True)
@click.option("--drain-timeout", type=float, default=10.0, show_default=True, hidden=True)
@click.option("--setup-timeout", type=float, default=300.0, show_default=True, hidden=True)
@click.option(
    "--login",
    metavar="PASSWORD",
    default=None,
    help="Log each client in (SASL PLAIN) to the account named like its nick.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON line instead of text.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Status line on stderr [default: when stderr is a terminal].",
)
def bench(
    as_json: bool,
    progress: bool | None,
    scenario: str,
    ports: tuple[int, ...],
    server_pids: tuple[int, ...],
    **settings: Any,
) -> None:
    """Load-test an IRC server (same scenarios as ircload).

    Exit status: 0 ok, 1 the server dropped clients or died, 2 bad options,
    3 setup failed or nothing was delivered.
    """
    show = sys.stderr.isatty() if progress is None else progress
    try:
        result = run(
            BenchOptions(
                scenario=Scenario(scenario),
                port=ports[0],
                extra_ports=ports[1:],
                server_pid=server_pids[0] if server_pids else None,
                extra_server_pids=server_pids[1:],
                **settings,
            ),
            Progress() if show else None,
        )
    except OptionError as exc:
        click.echo(f"hubbub bench: {exc}", err=True)
        sys.exit(_EXIT_USAGE)
    click.echo(result.to_json() if as_json else result.to_text())
    flood = result.flood_warning()
    if as_json and flood is not None:  # the text report has it already
        click.echo(flood, err=True)
    sys.exit(result.exit)
