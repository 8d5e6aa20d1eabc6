"""A CHATHISTORY reply larger than the client's send queue arrives complete,
in order, and the client is not disconnected for SendQ: the history a client
asked for is not a flood it caused."""

from __future__ import annotations

import socket

from harness import ServerFactory, joined

CAPS = ["batch", "server-time", "message-tags", "draft/chathistory"]
SENDQ = 8192


async def test_history_larger_than_the_sendq_arrives_whole(start_server: ServerFactory) -> None:
    irc = await start_server(limits={"sendq": SENDQ}, history={"chathistory_limit": 200})
    poster = await irc.client("poster")
    await joined(poster, "#big")
    texts = [f"{n:03d} " + "h" * 300 for n in range(120)]  # ~40 KB: five send queues
    for text in texts:
        await poster.send(f"PRIVMSG #big :{text}")
    await poster.nothing()
    await irc.server.store.flush()

    reader = await irc.client("reader", CAPS)
    await joined(reader, "#big")
    # A slow link: the kernel takes little, so the reply waits in the server.
    user = irc.server.world.find_user("reader")
    assert user is not None
    sock = user.sink.link.transport.get_extra_info("socket")  # type: ignore[attr-defined]
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    replies = await reader.ask("CHATHISTORY LATEST #big * 200")
    assert sum(len(m.params[-1]) for m in replies) > 4 * SENDQ
    got = [m.params[1] for m in replies if m.command == "PRIVMSG"]
    assert got == texts
    batches = [m.params[0][0] for m in replies if m.command == "BATCH"]
    assert batches == ["+", "-"]
    assert irc.server.world.find_user("reader") is not None
    await reader.send("PRIVMSG #big :still here")
    assert (await poster.expect("PRIVMSG")).params == ["#big", "still here"]
