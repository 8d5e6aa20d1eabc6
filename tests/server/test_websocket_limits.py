"""The send queue and flood control on the WebSocket transport, as on TCP:
a WebSocket client that stops reading is dropped at its send queue, and
lines over the flood burst are held back and run in order, not dropped."""

from __future__ import annotations

import asyncio
import socket

from websockets.asyncio.client import connect as ws_connect
from websockets.typing import Subprotocol

from harness import HOST, ServerFactory, joined
from hubbub.protocol.message import Message, parse
from hubbub.server.net.websocket import WebSocketConnection
from hubbub.server.session import Session
from ircclient import TIMEOUT

SENDQ = 8192


async def test_a_websocket_reader_that_stalls_is_dropped_at_its_sendq(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(limits={"sendq": SENDQ})
    talker, reader = await irc.client("talker"), await irc.client("reader")
    for client in (talker, reader):
        await joined(client, "#big")
    # A small receive window, and max_queue=1: the client library stops reading
    # the socket after one unread frame, so output backs up in the server as
    # over a stalled link.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((HOST, irc.port("websocket")))
    uri = f"ws://{HOST}:{irc.port('websocket')}"
    stalled = await ws_connect(
        uri, sock=sock, subprotocols=[Subprotocol("text.ircv3.net")], max_queue=1
    )
    try:
        await stalled.send("NICK wsslow")
        await stalled.send("USER wsslow 0 * :w")
        await stalled.send("JOIN #big")
        await reader.expect(
            lambda m: m.command == "JOIN" and (m.source or "").startswith("wsslow!")
        )
        user = irc.server.world.find_user("wsslow")
        assert user is not None and isinstance(user.sink, Session)
        assert isinstance(user.sink.link, WebSocketConnection)
        server_side = user.sink.link.ws.transport.get_extra_info("socket")
        server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        batch = 0
        while irc.server.world.find_user("wsslow") is not None:
            assert batch < 200, "the stalled WebSocket client was never dropped"
            lines = [f"PRIVMSG #big :{batch}-{i} {'w' * 400}\r\n" for i in range(10)]
            await talker.send_raw("".join(lines).encode())
            await talker.sync()  # the server has taken the batch
            for i in range(10):  # the healthy reader keeps up, in order
                msg = await reader.expect("PRIVMSG")
                assert msg.params[1].startswith(f"{batch}-{i} ")
            batch += 1
        quit_ = await reader.expect("QUIT")
        assert quit_.source is not None and quit_.source.startswith("wsslow!")
        assert quit_.params == ["SendQ exceeded"]
    finally:
        stalled.transport.abort()  # the server is gone: no closing handshake to wait for


async def test_websocket_lines_over_the_burst_are_held_not_dropped(
    start_server: ServerFactory,
) -> None:
    limits = {"flood_control": True, "flood_burst": 5, "flood_rate": 5.0, "flood_max_queue": 30}
    irc = await start_server(limits=limits)
    ws = await irc.websocket("wsheld")
    bystander = await irc.client("bystander")
    for i in range(20):
        await ws.send(f"PING :h{i}")
    received: list[Message] = []

    async def recv() -> Message:
        received.append(parse(str(await asyncio.wait_for(ws.recv(), TIMEOUT))))
        return received[-1]

    while (await recv()).params[-1] != "h0":
        pass
    # lines past the burst wait at 5/s, so a message sent now overtakes the last
    await bystander.send("PRIVMSG wsheld :overtaking")
    while (await recv()).params[-1] != "h19":
        pass
    order = [m.params[-1] for m in received if m.command in ("PONG", "PRIVMSG")]
    assert [token for token in order if token != "overtaking"] == [f"h{i}" for i in range(20)]
    assert order.index("overtaking") < order.index("h19")
    assert irc.server.world.find_user("wsheld") is not None
