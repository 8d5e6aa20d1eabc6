"""The server panel as a person uses it: a real Tk window on Xvfb, real clients."""

from __future__ import annotations

from collections.abc import Callable

from hubbub.panel.window import PanelWindow
from lineclient import LineClient
from uiwait import pump_tk_alone


def pump(window: PanelWindow, until: Callable[[], bool], timeout: float = 8.0) -> None:
    pump_tk_alone(window.root, until, timeout)


def served_port(window: PanelWindow) -> int:
    server = window.runner.server
    assert server is not None
    return server.listeners[0].port


def nicks(window: PanelWindow) -> list[str]:
    return [window.table.item(i, "values")[0] for i in window.table.get_children()]


def test_start_list_clients_and_stop(window: PanelWindow) -> None:
    window.start_button.invoke()
    assert window.runner.running
    assert "Running on 127.0.0.1:" in window.status_var.get()
    assert str(window.stop_button["state"]) == "normal"
    assert str(window.start_button["state"]) == "disabled"
    port = served_port(window)

    alice = LineClient(port, "alice")
    alice.sock.sendall(b"JOIN #lobby\r\n")
    pump(window, lambda: "alice" in nicks(window))
    pump(window, lambda: "#lobby" in window.table.item(window.table.get_children()[0], "values")[2])
    assert window.count_var.get() == "1 client"

    alice.sock.sendall(b"QUIT :bye\r\n")
    alice.read_all()
    pump(window, lambda: nicks(window) == [])

    bob = LineClient(port, "bob")
    pump(window, lambda: "bob" in nicks(window))
    window.stop_button.invoke()
    assert b"ERROR :Closing Link" in bob.read_all()
    assert window.status_var.get() == "Stopped."
    assert not window.runner.running


def test_kick_and_kill_selected_client(window: PanelWindow) -> None:
    window.start_button.invoke()
    port = served_port(window)
    carol = LineClient(port, "carol")
    carol.sock.sendall(b"JOIN #room\r\n")
    carol.wait_for(b" 366 ")
    pump(window, lambda: "carol" in nicks(window))
    item = window.table.get_children()[0]
    window.table.selection_set(item)
    window.kick_button.invoke()
    assert b"KICK #room carol :Kicked by the server operator" in carol.wait_for(b" KICK #room")
    window.kill_button.invoke()
    rest = carol.read_all()
    # The panel's kill is the operator's KILL action: a KILL line, then ERROR.
    assert b" KILL carol :Killed (" in rest
    assert b"Disconnected by the server operator" in rest
    pump(window, lambda: nicks(window) == [])


def test_bad_port_is_reported_not_raised(window: PanelWindow) -> None:
    window.port_var.set("not-a-port")
    window.start_button.invoke()
    assert "Port must be a number" in window.status_var.get()
    assert not window.runner.running


def test_closing_window_stops_server(window: PanelWindow) -> None:
    window.start_button.invoke()
    port = served_port(window)
    dave = LineClient(port, "dave")
    window.close()
    assert b"ERROR :Closing Link" in dave.read_all()
    assert not window.runner.running
