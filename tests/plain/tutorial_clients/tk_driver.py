"""Run the first tutorial's Tk client (client_001_tk.py) as a person would,
plus a hook the test steers it through: it reads commands on stdin (after
the host and port the client itself asks for) and acts on the client's own
widgets on the Tk thread:

    type TEXT   put TEXT in the entry field and press Return in it
    send TEXT   put TEXT in the entry field and click Send
    quit        click QUIT
    close       close the window (the window manager's close button)
    dump        print the message list as one line: dump ["entry", ...]

It prints ``ready`` once the window is up."""

from __future__ import annotations

import json
import queue
import sys
import threading
import tkinter
from pathlib import Path
from typing import Any

POLL_MS = 20


def main() -> None:
    path = Path(__file__).with_name("client_001_tk.py")
    client: dict[str, Any] = {"__name__": "__main__", "__file__": str(path)}
    commands: queue.Queue[str] = queue.Queue()
    real_mainloop = tkinter.mainloop

    def read_commands() -> None:
        for line in sys.stdin:
            commands.put(line.rstrip("\n"))

    def act() -> None:
        while not commands.empty():
            verb, _, text = commands.get().partition(" ")
            if verb in ("type", "send"):
                client["msg_value"].set(text)
                if verb == "type":
                    field = client["message_field"]
                    field.focus_force()  # key events go to the focused window
                    field.update()
                    field.event_generate("<Return>")
                else:
                    client["send_button"].invoke()
            elif verb == "quit":
                client["quit_button"].invoke()
            elif verb == "close":
                top = client["top"]
                top.tk.call(top.protocol("WM_DELETE_WINDOW"))
            elif verb == "dump":
                entries = list(client["all_msg"].get(0, tkinter.END))
                print("dump " + json.dumps(entries), flush=True)
        client["top"].after(POLL_MS, act)

    def mainloop(n: int = 0) -> None:
        threading.Thread(target=read_commands, daemon=True).start()
        client["top"].after(POLL_MS, act)
        client["top"].update()
        print("ready", flush=True)
        real_mainloop(n)

    tkinter.mainloop = mainloop
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), client)


if __name__ == "__main__":
    main()
