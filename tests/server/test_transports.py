"""TLS and IRCv3 WebSocket listeners carry the same conversation as plaintext."""

from __future__ import annotations

import asyncio
import hashlib
import ssl

from websockets.asyncio.client import connect

from harness import RunningServer
from hubbub.protocol.message import parse
from hubbub.server.net.tls import certificate_fingerprint
from ircclient import RawClient


async def test_tls_client_chats_with_plaintext_client(irc: RunningServer) -> None:
    secure = await RawClient.connect("127.0.0.1", irc.port("tls"), tls=True)
    irc.clients.append(secure)
    await secure.register("secure")
    plain = await irc.client("plain")
    await plain.send("PRIVMSG secure :hello over tls")
    got = await secure.expect("PRIVMSG")
    assert got.params == ["secure", "hello over tls"]
    der = secure.writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    cert_file = irc.server.config.server.data_dir / "tls-cert.pem"
    assert hashlib.sha256(der).hexdigest() == certificate_fingerprint(cert_file)


async def _ws_lines(ws: object, until: str, timeout: float = 5.0) -> list[str]:
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(ws.recv(), timeout)  # type: ignore[attr-defined]
        text = raw.decode() if isinstance(raw, bytes) else raw
        assert "\r" not in text and "\n" not in text
        lines.append(text)
        if parse(text).command == until:
            return lines


async def test_websocket_text_subprotocol(irc: RunningServer) -> None:
    url = f"ws://127.0.0.1:{irc.port('websocket')}"
    plain = await irc.client("plain")
    async with connect(url, subprotocols=["text.ircv3.net"], max_queue=None) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "text.ircv3.net"
        await ws.send("NICK webby")
        await ws.send("USER webby 0 * :Web")
        await _ws_lines(ws, "376")
        await ws.send("JOIN #web")
        await _ws_lines(ws, "366")
        await plain.send("JOIN #web")
        await plain.expect("366")
        await plain.send("PRIVMSG #web :hi web")
        lines = await _ws_lines(ws, "PRIVMSG")
        assert parse(lines[-1]).params == ["#web", "hi web"]


async def test_websocket_binary_subprotocol(irc: RunningServer) -> None:
    url = f"ws://127.0.0.1:{irc.port('websocket')}"
    async with connect(url, subprotocols=["binary.ircv3.net"], max_queue=None) as ws:  # type: ignore[list-item]
        assert ws.subprotocol == "binary.ircv3.net"
        await ws.send(b"NICK bin")
        await ws.send(b"USER bin 0 * :Bin")
        raw = await asyncio.wait_for(ws.recv(), 5)
        assert isinstance(raw, bytes) and parse(raw.decode()).command == "001"


def test_tls_context_rejects_old_protocols(irc: RunningServer) -> None:
    context = irc.server._tls_context()
    assert context.minimum_version >= ssl.TLSVersion.TLSv1_2
