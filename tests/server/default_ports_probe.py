"""Run by test_cli inside a private network namespace (``unshare -rn``), so the
fixed default ports are free whatever else runs on the machine: bring up
loopback, start ``hubbub serve`` with no options in the current directory,
wait for 6667, 6697 and 8097 to accept, stop it with SIGTERM, and pass its
exit status and output on."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time

PORTS = (6667, 6697, 8097)


def accepting(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def main() -> int:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hubbub", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not all(accepting(port) for port in PORTS):
        if time.monotonic() > deadline or proc.poll() is not None:
            break
        time.sleep(0.05)
    listening = all(accepting(port) for port in PORTS)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    sys.stdout.write(out)
    sys.stderr.write(err)
    print(f"probe: listening={listening} exit={proc.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
