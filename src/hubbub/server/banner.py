"""What ``hubbub serve`` prints once it listens: each address as a URL, the
command that connects to it, and a loud warning for every listener open to
the whole network, so a first run never exposes a server (whose account
registration is open by default) without saying so."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from hubbub import __version__

# Addresses that accept connections on every interface.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


class ListenerInfo(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def tls(self) -> bool: ...
    @property
    def websocket(self) -> bool: ...


def _bracketed(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def url(listener: ListenerInfo) -> str:
    """``irc://127.0.0.1:6667``, ``ircs://...``, ``ws://...``, ``wss://...``."""
    if listener.websocket:
        scheme = "wss" if listener.tls else "ws"
    else:
        scheme = "ircs" if listener.tls else "irc"
    return f"{scheme}://{_bracketed(listener.host or '0.0.0.0')}:{listener.port}"


def _local_host(host: str) -> str:
    """Where a client on this machine reaches a listener."""
    if host in ("::", ""):
        return "::1" if host == "::" else "127.0.0.1"
    return "127.0.0.1" if host == "0.0.0.0" else host


def connect_command(hubbub: str, listener: ListenerInfo) -> str:
    address = f"{_bracketed(_local_host(listener.host))}:{listener.port}"
    flags = (" --websocket" if listener.websocket else "") + (" --tls" if listener.tls else "")
    return f"{hubbub} chat {address}{flags}"


def exposure_warning(listener: ListenerInfo, registration_open: bool) -> str | None:
    """One line for a listener on every interface, saying how to restrict it."""
    if listener.host not in WILDCARD_HOSTS:
        return None
    who = "connect and register an account" if registration_open else "connect"
    if listener.tls and not listener.websocket:
        fix = "--tls-host 127.0.0.1"
    else:
        flag = "--ws-listen" if listener.websocket else "--listen"
        fix = f"{flag} 127.0.0.1:{listener.port}"
    return (
        f"WARNING: {url(listener)} is open on every network interface: anyone who can "
        f"reach this machine can {who}. To keep it to this machine: {fix} "
        '(or host = "127.0.0.1" in its [[listen]] section of the config file).'
    )


def _shown(path: str, cwd: str) -> str:
    """``path`` as typed from ``cwd``: relative below it, absolute elsewhere."""
    absolute = os.path.abspath(os.path.join(cwd, path))
    relative = os.path.relpath(absolute, cwd)
    if relative.startswith(".."):
        return absolute
    return relative if os.sep in relative else f".{os.sep}{relative}"


def hubbub_command(argv0: str | None = None, cwd: str | None = None) -> str:
    """How the person who started the server runs ``hubbub`` again:
    ``hubbub`` when that is on PATH, else the script's path (``.venv/bin/hubbub``
    under ``make serve``), else ``python -m hubbub``."""
    argv0 = sys.argv[0] if argv0 is None else argv0
    cwd = os.getcwd() if cwd is None else cwd
    if os.path.basename(argv0) != "hubbub":
        return f"{_shown(sys.executable, cwd)} -m hubbub"
    on_path = shutil.which("hubbub")
    script = os.path.join(cwd, argv0)
    if on_path is not None and os.path.exists(script) and os.path.samefile(on_path, script):
        return "hubbub"
    return _shown(argv0, cwd)


def banner_lines(
    *,
    name: str,
    network: str,
    data_dir: Path,
    listeners: Sequence[ListenerInfo],
    registration_open: bool,
    hubbub: str,
) -> list[str]:
    lines = [f"hubbub {__version__} is up as {name} (network {network}), data in {data_dir}"]
    width = max((len(url(x)) for x in listeners), default=0)
    for listener in listeners:
        lines.append(f"  {url(listener):<{width}}  connect: {connect_command(hubbub, listener)}")
    for listener in listeners:
        warning = exposure_warning(listener, registration_open)
        if warning is not None:
            lines.append(warning)
    plain = next((x for x in listeners if not x.tls and not x.websocket), None)
    if plain is not None:
        host = _local_host(plain.host)
        lines.append(
            f"irssi: irssi -c {host} -p {plain.port}; "
            f"WeeChat: /server add hubbub {host}/{plain.port} -notls; "
            "TLS and more: README.md, section Connect."
        )
    lines.append("Stop with Ctrl-C.")
    return lines


def plain_chat_line(listener: ListenerInfo) -> str:
    """How to join a plain-chat listener (``protocol = "plain"``) without IRC."""
    host = _bracketed(_local_host(listener.host))
    where = f"{listener.host or '0.0.0.0'}:{listener.port}"
    open_to_all = " (open on every network interface)" if listener.host in WILDCARD_HOSTS else ""
    return (
        f"  plain chat on {where}{open_to_all}  connect: nc {_local_host(listener.host)} "
        f"{listener.port}, telnet {host} {listener.port} or a tutorial's chat client"
    )
