"""A blocking IRC client on a plain socket, for tests whose server runs on
another thread (the panel's): register, wait for bytes, read to the end."""

from __future__ import annotations

import socket


class LineClient:
    def __init__(self, port: int, nick: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.address = "{}:{}".format(*self.sock.getsockname())
        self.buffer = b""
        self.sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :{nick}\r\n".encode())
        self.wait_for(b" 376 ")

    def wait_for(self, needle: bytes) -> bytes:
        """Everything received once ``needle`` has arrived (or the end)."""
        while needle not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        return self.buffer

    def read_all(self) -> bytes:
        """Everything received until the server closes the connection."""
        while chunk := self.sock.recv(4096):
            self.buffer += chunk
        return self.buffer

    def quit(self) -> None:
        self.sock.sendall(b"QUIT :bye\r\n")
        self.read_all()
        self.sock.close()
