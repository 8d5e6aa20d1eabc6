"""The connect dialog: server, port, nickname, TLS, optional account and password."""

from __future__ import annotations

import tkinter as tk
from collections.abc import Callable
from dataclasses import replace
from tkinter import ttk

from hubbub.client.config import PLAIN_PORT, TLS_PORT, ClientConfig
from hubbub.protocol.casemap import valid_nick


class ConnectDialog(ttk.Frame):
    """Calls ``on_connect(config)`` with what was entered, once it is valid."""

    def __init__(
        self,
        master: tk.Misc,
        defaults: ClientConfig,
        on_connect: Callable[[ClientConfig], None],
        on_cancel: Callable[[], None],
    ) -> None:
        super().__init__(master, padding=16)
        self._defaults = defaults
        self._on_connect = on_connect
        self.host = tk.StringVar(self, defaults.host)
        self.port = tk.StringVar(self, str(defaults.effective_port))
        self.nick = tk.StringVar(self, defaults.nick)
        self.tls = tk.BooleanVar(self, defaults.tls)
        self.account = tk.StringVar(self, defaults.sasl_account or "")
        self.password = tk.StringVar(self, defaults.sasl_password or defaults.server_password or "")
        self.channels = tk.StringVar(self, " ".join(defaults.channels))
        self.error = tk.StringVar(self, "")

        ttk.Label(self, text="Connect to a chat server", font="TkHeadingFont").grid(
            row=0, column=0, columnspan=2, pady=(0, 12), sticky="w"
        )
        rows: list[tuple[str, tk.Variable, str]] = [
            ("Server", self.host, ""),
            ("Port", self.port, ""),
            ("Nickname", self.nick, ""),
            ("Channels", self.channels, ""),
            ("Account (optional)", self.account, ""),
            ("Password (optional)", self.password, "*"),
        ]
        self.entries: dict[str, ttk.Entry] = {}
        for i, (label, var, show) in enumerate(rows, start=1):
            ttk.Label(self, text=label).grid(row=i, column=0, sticky="w", padx=(0, 8), pady=2)
            entry = ttk.Entry(self, textvariable=var, show=show, width=28)
            entry.grid(row=i, column=1, sticky="ew", pady=2)
            self.entries[label.split()[0].lower()] = entry
        self.tls_check = ttk.Checkbutton(
            self, text="Use TLS (encrypted)", variable=self.tls, command=self._tls_toggled
        )
        self.tls_check.grid(row=len(rows) + 1, column=1, sticky="w", pady=4)
        ttk.Label(self, textvariable=self.error, foreground="#c0392b").grid(
            row=len(rows) + 2, column=0, columnspan=2, sticky="w"
        )
        buttons = ttk.Frame(self)
        buttons.grid(row=len(rows) + 3, column=0, columnspan=2, sticky="e", pady=(8, 0))
        self.cancel_button = ttk.Button(buttons, text="Cancel", command=on_cancel)
        self.cancel_button.pack(side="right")
        self.connect_button = ttk.Button(buttons, text="Connect", command=self.submit)
        self.connect_button.pack(side="right", padx=(0, 6))
        self.columnconfigure(1, weight=1)
        for entry in self.entries.values():
            entry.bind("<Return>", lambda _e: self.submit())
        self.entries["nickname"].focus_set()

    def _tls_toggled(self) -> None:
        if self.port.get() in (str(PLAIN_PORT), str(TLS_PORT), ""):
            self.port.set(str(TLS_PORT if self.tls.get() else PLAIN_PORT))

    def submit(self) -> None:
        port_text, nick = self.port.get().strip(), self.nick.get().strip()
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            self.error.set(f"The port must be a number from 1 to 65535, not {port_text!r}.")
            return
        if not valid_nick(nick, 30):
            self.error.set(f"{nick!r} is not a valid nickname.")
            return
        account, password = self.account.get().strip(), self.password.get()
        channels = [c if c[0] in "#&" else "#" + c for c in self.channels.get().split()]
        config = replace(
            self._defaults,
            host=self.host.get().strip() or "127.0.0.1",
            port=int(port_text),
            nick=nick,
            tls=self.tls.get(),
            channels=channels,
            sasl_account=account or None,
            sasl_password=(password or None) if account else None,
            server_password=(password or None) if not account else None,
        )
        self.error.set("")
        self._on_connect(config)
