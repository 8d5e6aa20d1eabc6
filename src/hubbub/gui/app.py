"""The desktop client's top level: the connect dialog, then the chat window,
in one Tk root; closing the window quits cleanly."""

from __future__ import annotations

import gc
import tkinter as tk
from tkinter import ttk

from hubbub.client.config import ClientConfig
from hubbub.gui.bridge import NetworkThread
from hubbub.gui.dialog import ConnectDialog
from hubbub.gui.window import ChatWindow


class GuiApp:
    def __init__(self, root: tk.Tk, defaults: ClientConfig) -> None:
        self.root = root
        self.window: ChatWindow | None = None
        self.network: NetworkThread | None = None
        self.closed = False
        root.title("hubbub")
        root.minsize(520, 360)
        style = ttk.Style(root)
        if "clam" in style.theme_names():
            style.theme_use("clam")
        root.protocol("WM_DELETE_WINDOW", self.close)
        self.dialog: ConnectDialog | None = ConnectDialog(root, defaults, self.connect, self.close)
        self.dialog.pack(fill="both", expand=True)

    def connect(self, config: ClientConfig) -> None:
        if self.dialog is not None:
            self.dialog.destroy()
            self.dialog = None
            # Free the dialog's Tk variables here, on the Tk thread: collected
            # later on the network thread, they would call into Tcl from there.
            gc.collect()
        self.network = NetworkThread(config)
        self.network.start()
        self.window = ChatWindow(self.root, self.network, self._destroy)
        self.window.pack(fill="both", expand=True)
        self.root.geometry("900x560")

    def close(self) -> None:
        """Window closed or Quit pressed: QUIT first when connected, then go."""
        if self.window is not None:
            self.window.quit_chat()
        else:
            self._destroy()

    def _destroy(self) -> None:
        if not self.closed:
            self.closed = True
            self.root.destroy()
