"""Where a plain-chat message ends: at LF (CR LF too), or, for clients that
send each message as one write with no newline (the tutorials' clients),
when the bytes stop coming for a moment (the adapter's idle timer calls
``take_partial``). Sans-I/O and bounded."""

from __future__ import annotations

from hubbub.protocol.message import MAX_BODY_BYTES

# What is kept of one message; the rest of it is dropped. Anything longer
# than an IRC line is cut to fit one anyway (commands.fit_text).
MAX_MESSAGE_BYTES = MAX_BODY_BYTES * 2


class PlainFramer:
    """Bytes in, whole messages out. A message longer than
    ``MAX_MESSAGE_BYTES`` is cut there (its end is dropped), so memory per
    connection is bounded whatever the client sends."""

    __slots__ = ("_dropping", "_partial")

    def __init__(self) -> None:
        self._partial = b""
        self._dropping = False  # the current message was cut: skip to its end

    @property
    def pending(self) -> bool:
        """Bytes of an unfinished message are waiting."""
        return bool(self._partial) or self._dropping

    def feed(self, data: bytes) -> list[bytes]:
        """The messages ``data`` completes (each without its LF or CR LF)."""
        *complete, rest = data.split(b"\n")
        messages: list[bytes] = []
        for piece in complete:
            message = self._keep(piece)
            self._partial = b""
            self._dropping = False
            messages.append(message[:-1] if message.endswith(b"\r") else message)
        self._partial = self._keep(rest)
        return messages

    def take_partial(self) -> bytes | None:
        """The unfinished message as it stands (the client paused), if any."""
        if not self.pending:
            return None
        message = self._partial
        self._partial = b""
        self._dropping = False
        return message

    def _keep(self, piece: bytes) -> bytes:
        joined = self._partial + piece if self._partial else piece
        if len(joined) > MAX_MESSAGE_BYTES:
            self._dropping = True
            return joined[:MAX_MESSAGE_BYTES]
        return joined
