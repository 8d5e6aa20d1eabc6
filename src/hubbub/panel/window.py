"""The panel window: address fields, Start/Stop, status, live client table,
log pane, Kick/Kill. Tk only runs on its own thread; the server runs in a
:class:`ServerRunner` thread."""

from __future__ import annotations

import errno
import logging
import queue
import time
import tkinter as tk
from pathlib import Path
from tkinter import scrolledtext, ttk

from hubbub.panel.figures import RateMeter, describe
from hubbub.panel.presence import PresenceLog
from hubbub.panel.runner import ClientRow, ServerRunner
from hubbub.server.config import ConfigError, ListenSection, parse_config

REFRESH_MS = 500
COLUMNS = ("nick", "address", "channels", "since", "tls", "via")


class QueueHandler(logging.Handler):
    """Carries log records from the server thread to the Tk thread."""

    def __init__(self, records: queue.Queue[str]) -> None:
        super().__init__()
        self.records = records
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.put(self.format(record))


class PanelWindow:
    def __init__(
        self,
        root: tk.Tk,
        *,
        host: str = "127.0.0.1",
        port: int = 6667,
        plain_port: int | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.root = root
        self.runner = ServerRunner()
        self.data_dir = data_dir or Path("hubbub-data")
        self.logs: queue.Queue[str] = queue.Queue()
        self._log_handler = QueueHandler(self.logs)
        logging.getLogger("hubbub").addHandler(self._log_handler)
        logging.getLogger("hubbub").setLevel(logging.INFO)
        self._refresh_job: str | None = None
        self._rows: dict[str, ClientRow] = {}
        self.presence = PresenceLog()
        self.closed = False

        root.title("hubbub server panel")
        root.geometry("820x520")
        root.minsize(640, 400)
        root.protocol("WM_DELETE_WINDOW", self.close)

        top = ttk.Frame(root, padding=8)
        top.pack(fill="x")
        ttk.Label(top, text="Address").pack(side="left")
        self.host_var = tk.StringVar(value=host)
        self.host_entry = ttk.Entry(top, textvariable=self.host_var, width=16)
        self.host_entry.pack(side="left", padx=(4, 12))
        ttk.Label(top, text="Port").pack(side="left")
        self.port_var = tk.StringVar(value=str(port))
        self.port_entry = ttk.Entry(top, textvariable=self.port_var, width=7)
        self.port_entry.pack(side="left", padx=(4, 12))
        # Plain chat (nc, telnet, the tutorials' clients) on this port too; empty: none.
        ttk.Label(top, text="Plain chat port").pack(side="left")
        self.plain_port_var = tk.StringVar(value="" if plain_port is None else str(plain_port))
        self.plain_port_entry = ttk.Entry(top, textvariable=self.plain_port_var, width=7)
        self.plain_port_entry.pack(side="left", padx=(4, 12))
        self.start_button = ttk.Button(top, text="Start", command=self.start)
        self.start_button.pack(side="left")
        self.stop_button = ttk.Button(top, text="Stop", command=self.stop, state="disabled")
        self.stop_button.pack(side="left", padx=4)

        self.status_var = tk.StringVar(value="Stopped.")
        ttk.Label(root, textvariable=self.status_var, padding=(8, 0)).pack(fill="x")
        # Live figures (the same as /metrics): users, messages/s, store queue.
        self.figures_var = tk.StringVar(value="")
        ttk.Label(root, textvariable=self.figures_var, padding=(8, 4, 8, 0)).pack(fill="x")
        self.rate = RateMeter()

        panes = ttk.PanedWindow(root, orient="vertical")
        panes.pack(fill="both", expand=True, padx=8, pady=8)
        table_frame = ttk.Frame(panes)
        self.table = ttk.Treeview(table_frame, columns=COLUMNS, show="headings", height=8)
        for column, width in zip(COLUMNS, (130, 150, 220, 80, 40, 80), strict=True):
            self.table.heading(column, text=column.capitalize() if column != "tls" else "TLS")
            self.table.column(column, width=width, anchor="w")
        self.table.pack(side="left", fill="both", expand=True)
        buttons = ttk.Frame(table_frame, padding=(8, 0))
        buttons.pack(side="right", fill="y")
        self.count_var = tk.StringVar(value="0 clients")
        ttk.Label(buttons, textvariable=self.count_var).pack(pady=(0, 8))
        self.kick_button = ttk.Button(buttons, text="Kick", command=self.kick_selected)
        self.kick_button.pack(fill="x")
        self.kill_button = ttk.Button(buttons, text="Kill", command=self.kill_selected)
        self.kill_button.pack(fill="x", pady=4)
        panes.add(table_frame, weight=3)
        self.log_view = scrolledtext.ScrolledText(panes, height=8, state="disabled")
        panes.add(self.log_view, weight=2)
        self.root.after(REFRESH_MS, self._drain_logs)

    # --- actions ---------------------------------------------------------------
    def start(self) -> None:
        if self.runner.running:
            return
        host = self.host_var.get().strip() or "127.0.0.1"
        port_text = self.port_var.get().strip()
        if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
            self.status_var.set(f"Port must be a number from 0 to 65535, not {port_text!r}.")
            return
        plain_text = self.plain_port_var.get().strip()
        if plain_text and (not plain_text.isdigit() or not 0 <= int(plain_text) <= 65535):
            self.status_var.set(
                f"Plain chat port must be a number from 0 to 65535 or empty, not {plain_text!r}."
            )
            return
        try:
            config = parse_config({"server": {"data_dir": str(self.data_dir)}})
            config.listen = [ListenSection(host=host, port=int(port_text))]
            if plain_text:
                config.listen.append(
                    ListenSection(host=host, port=int(plain_text), protocol="plain")
                )
            listeners = self.runner.start(config)
        except OSError as exc:
            self._start_failed(start_failure(exc, host, int(port_text)))
            return
        except ConfigError as exc:
            self._start_failed(f"Could not start: {exc}")
            return
        where = ", ".join(f"{h}:{p}" for kind, h, p in listeners if kind != "plain-chat")
        status = f"Running on {where}. Connect: hubbub chat {where.split(',')[0]}"
        for _, plain_host, plain_port in (x for x in listeners if x[0] == "plain-chat"):
            status += f"; plain chat: nc {plain_host} {plain_port}"
        self.status_var.set(status)
        self._log(f"server started on {where}")
        self.start_button.configure(state="disabled")
        self.stop_button.configure(state="normal")
        self.host_entry.configure(state="disabled")
        self.port_entry.configure(state="disabled")
        self.plain_port_entry.configure(state="disabled")
        self._schedule_refresh()

    def _start_failed(self, message: str) -> None:
        """Say why in the window and hand the port field back to the person."""
        self.status_var.set(message)
        self._log(message)
        self.port_entry.focus_set()
        self.port_entry.select_range(0, "end")

    def stop(self) -> None:
        if not self.runner.running:
            return
        if self._refresh_job is not None:
            self.root.after_cancel(self._refresh_job)
            self._refresh_job = None
        self.runner.stop()
        self._show_rows([])
        self.presence.clear()
        self.rate.clear()
        self.figures_var.set("")
        self.status_var.set("Stopped.")
        self._log("server stopped")
        self.start_button.configure(state="normal")
        self.stop_button.configure(state="disabled")
        self.host_entry.configure(state="normal")
        self.port_entry.configure(state="normal")
        self.plain_port_entry.configure(state="normal")

    def close(self) -> None:
        """Window closed: stop the server cleanly, then go."""
        self.stop()
        logging.getLogger("hubbub").removeHandler(self._log_handler)
        self.closed = True
        self.root.destroy()

    def selected(self) -> ClientRow | None:
        selection = self.table.selection()
        return self._rows.get(selection[0]) if selection else None

    def kick_selected(self) -> None:
        row = self.selected()
        if row is None:
            self.status_var.set("Select a client first.")
            return
        count = self.runner.kick(row.connection_id, "Kicked by the server operator")
        self._log(f"kicked {row.nick} from {count} channel(s)")
        self.refresh()

    def kill_selected(self) -> None:
        row = self.selected()
        if row is None:
            self.status_var.set("Select a client first.")
            return
        if self.runner.kill(row.connection_id, "Disconnected by the server operator"):
            self._log(f"killed {row.nick} ({row.address})")
        self.refresh()

    # --- refreshing --------------------------------------------------------------
    def _schedule_refresh(self) -> None:
        self.refresh()
        self._refresh_job = self.root.after(REFRESH_MS, self._schedule_refresh)

    def refresh(self) -> None:
        if self.runner.running:
            rows = self.runner.clients()
            self._show_rows(rows)
            for line in self.presence.update(rows):
                self._log(line)
            figures = self.runner.figures()
            if figures is not None:
                rate = self.rate.add(time.monotonic(), figures.messages)
                self.figures_var.set(describe(figures, rate))

    def _show_rows(self, rows: list[ClientRow]) -> None:
        wanted = {str(row.connection_id): row for row in rows}
        for item in self.table.get_children():
            if item not in wanted:
                self.table.delete(item)
        for item, row in wanted.items():
            tls = "yes" if row.tls else "no"
            values = (row.nick, row.address, row.channels, row.since, tls, row.via)
            if self.table.exists(item):
                self.table.item(item, values=values)
            else:
                self.table.insert("", "end", iid=item, values=values)
        self._rows = wanted
        self.count_var.set(f"{len(rows)} client{'s' if len(rows) != 1 else ''}")

    def _log(self, line: str) -> None:
        self.log_view.configure(state="normal")
        self.log_view.insert("end", line + "\n")
        self.log_view.see("end")
        self.log_view.configure(state="disabled")

    def _drain_logs(self) -> None:
        try:
            while True:
                self._log(self.logs.get_nowait())
        except queue.Empty:
            pass
        if not self.closed:
            self.root.after(REFRESH_MS, self._drain_logs)


def start_failure(exc: OSError, host: str, port: int) -> str:
    """Why the server could not listen, in words that say what to do."""
    if exc.errno == errno.EADDRINUSE:
        return (
            f"Port {port} on {host} is already in use (is another server running, "
            f"e.g. hubbub serve or make serve?). Type another port above, or 0 for "
            f"any free one, and press Start."
        )
    if exc.errno == errno.EACCES:
        return f"Port {port} needs administrator rights: use a port above 1023."
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"{host} is not an address of this machine: try 127.0.0.1 or 0.0.0.0."
    return f"Could not start: {exc.strerror or exc}"
