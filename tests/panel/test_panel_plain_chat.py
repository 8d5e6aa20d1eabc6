"""The panel serves plain chat too, lists plain-chat clients with the others
and can kick and kill them. Real Tk on Xvfb, real server, real sockets."""

from __future__ import annotations

import socket
from collections.abc import Callable

from hubbub.panel.window import PanelWindow
from lineclient import LineClient
from uiwait import pump_tk_alone


def pump(window: PanelWindow, until: Callable[[], bool], timeout: float = 8.0) -> None:
    pump_tk_alone(window.root, until, timeout)


def rows(window: PanelWindow) -> dict[str, tuple[str, ...]]:
    table = window.table
    shown = [tuple(str(v) for v in table.item(i, "values")) for i in table.get_children()]
    return {values[0]: values for values in shown}


def listener_port(window: PanelWindow, kind: str) -> int:
    server = window.runner.server
    assert server is not None
    return next(x.port for x in server.listeners if x.kind == kind)


def read_until(sock: socket.socket, needle: bytes) -> bytes:
    data = b""
    while needle not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def test_plain_chat_clients_are_listed_kicked_and_killed(window: PanelWindow) -> None:
    window.plain_port_var.set("0")
    window.start_button.invoke()
    assert "plain chat: nc 127.0.0.1 " in window.status_var.get()
    irc = LineClient(listener_port(window, "plaintext"), "gina")
    irc.sock.sendall(b"JOIN #lobby\r\n")
    irc.wait_for(b" 366 ")
    plain = socket.create_connection(("127.0.0.1", listener_port(window, "plain-chat")), timeout=5)
    assert plain.recv(4) == b"NICK"
    plain.sendall(b"frank\r\n")
    assert b"frank has joined the chat!\n" in read_until(plain, b"frank has joined")
    pump(window, lambda: "#lobby" in rows(window).get("frank", ("",) * 6)[2])
    assert rows(window)["frank"][5] == "plain-chat"
    assert rows(window)["gina"][5] == "plain"

    item = next(
        i for i in window.table.get_children() if window.table.item(i, "values")[0] == "frank"
    )
    window.table.selection_set(item)
    window.kick_button.invoke()
    kicked = read_until(plain, b"/join to return.\n")
    assert b"You were kicked out of #lobby by " in kicked
    assert b"(Kicked by the server operator)" in kicked
    assert b" KICK #lobby frank :Kicked by the server operator" in irc.wait_for(b" KICK #lobby")
    window.kill_button.invoke()
    rest = read_until(plain, b"Disconnected by the server operator")
    assert b"[server] Closing Link: " in rest
    pump(window, lambda: "frank" not in rows(window))
    irc.quit()
    plain.close()
