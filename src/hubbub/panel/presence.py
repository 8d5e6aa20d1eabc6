"""Who came and who went, for the panel's log: successive snapshots of the
connected clients in, "alice connected from ..." / "alice disconnected ..."
lines out. A client is announced once registered (when it has a nick) and
its departure names the nick it had last. Pure, so it is tested without Tk.

The panel takes a snapshot every refresh, so a client that registers and
leaves between two snapshots is not announced (it was never seen); the
server's own log remains the record for that."""

from __future__ import annotations

from hubbub.panel.runner import ClientRow


class PresenceLog:
    def __init__(self) -> None:
        self._known: dict[int, ClientRow] = {}

    def update(self, rows: list[ClientRow]) -> list[str]:
        """Lines for the changes since the previous snapshot, arrivals first."""
        current = {row.connection_id: row for row in rows if row.registered}
        lines = [
            f"{row.nick} connected from {row.address}" + (" (TLS)" if row.tls else "")
            for key, row in current.items()
            if key not in self._known
        ]
        lines += [
            f"{row.nick} disconnected ({row.address})"
            for key, row in self._known.items()
            if key not in current
        ]
        self._known = current
        return lines

    def clear(self) -> None:
        """Forget everyone (the server stopped: its own line says so)."""
        self._known = {}
