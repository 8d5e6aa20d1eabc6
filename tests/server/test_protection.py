"""Protections under abuse, over real sockets: flood control, send queue,
receive limits, throttling, crash containment and input hardening."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import socket
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from harness import OPERS, RunningServer, ServeProcess, ServerFactory, closing_link, until
from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.commands.registry import CommandSpec
from ircclient import TIMEOUT, RawClient


def is_msg(command: str, last: str) -> Callable[[Message], bool]:
    return lambda m: m.command == command and m.params[-1] == last


def pong_tokens(lines: list[Message]) -> list[str]:
    return [m.params[-1] for m in lines if m.command == "PONG"]


async def pings(client: RawClient, prefix: str, count: int) -> None:
    """``count`` PINGs in one write, tokens ``prefix``0 upwards."""
    await client.send_raw(b"".join(f"PING :{prefix}{i}\r\n".encode() for i in range(count)))


async def until_pong(client: RawClient, token: str, timeout: float = TIMEOUT) -> list[Message]:
    """Everything up to and including the PONG for ``token``."""
    lines = [await client.read(timeout)]
    while not is_msg("PONG", token)(lines[-1]):
        lines.append(await client.read(timeout))
    return lines


async def flooded_off(flooder: RawClient, target: str) -> None:
    """500 messages at once, far past any queue: Excess Flood, then closed."""
    spam = "".join(f"PRIVMSG {target} :spam {i}\r\n" for i in range(500))
    await flooder.send_raw(spam.encode())
    error = await flooder.expect("ERROR")
    assert len(error.params) == 1 and re.fullmatch(closing_link("Excess Flood"), error.params[0])
    assert await flooder.closed()


async def overtaken(flooder: RawClient, other: RawClient, prefix: str, count: int) -> None:
    """``count`` PINGs over the burst: ``other``'s message, sent once the first
    PONG is back, arrives before the last PONG, and every PONG comes in order."""
    await pings(flooder, prefix, count)
    await flooder.expect(is_msg("PONG", f"{prefix}0"))
    await other.send(f"PRIVMSG {flooder.nick} :overtaking")
    before = await flooder.collect_until("PRIVMSG")
    assert f"{prefix}{count - 1}" not in pong_tokens(before), before
    after = await until_pong(flooder, f"{prefix}{count - 1}", timeout=30)
    tokens = [f"{prefix}0", *pong_tokens(before), *pong_tokens(after)]
    assert tokens == [f"{prefix}{i}" for i in range(count)]


# --- flood control ---------------------------------------------------------------

FLOOD = {"flood_control": True, "flood_burst": 5, "flood_rate": 5.0, "flood_max_queue": 10}


async def test_flood_control_acts_with_the_readme_defaults(tmp_path: Path) -> None:
    """`hubbub serve` with no config (only ports and data dir, as a newcomer runs
    it): a burst is delayed, a flood is cut off, and a bystander is unaffected."""
    serve = ServeProcess.on_free_ports(tmp_path)
    await serve.start()
    try:
        flooder, bystander = await serve.client("flooder"), await serve.client("bystander")
        # Delayed, not dropped: 30 PINGs are over the default burst of 10 at 4/s.
        await overtaken(flooder, bystander, "d", 30)
        # Flooding past the queue of 40 held lines: Excess Flood, connection closed.
        await flooded_off(flooder, "bystander")
        spam = [m.params[1] for m in await bystander.sync()]
        assert spam == [f"spam {i}" for i in range(len(spam))]
        assert len(spam) < 60  # a burst plus what trickled at 4/s, not 500
        await bystander.nothing()
    finally:
        code = await serve.stop()
    assert code == 0, serve.output


async def test_burst_then_delayed_then_excess_flood(start_server: ServerFactory) -> None:
    irc = await start_server(limits={**FLOOD, "flood_max_queue": 30})
    flooder = await irc.client("flooder")
    alice, bob = await irc.client("alice"), await irc.client("bob")
    # Over the burst of 5 at 5/s, the 20th PING waits ~3 s.
    await overtaken(flooder, alice, "p", 20)

    # A persistent flooder is disconnected; the others are unaffected.
    await flooded_off(flooder, "bob")
    await alice.send("PRIVMSG bob :still talking")
    assert (await bob.expect("PRIVMSG")).params == ["bob", "still talking"]
    spam = [
        m.params[1] for m in bob.log if m.command == "PRIVMSG" and m.params[1].startswith("spam")
    ]
    assert spam == [f"spam {i}" for i in range(len(spam))]
    assert len(spam) <= 40  # only what the bucket and the queue of 30 let through


async def test_steady_flooder_is_disconnected(start_server: ServerFactory) -> None:
    irc = await start_server(limits=FLOOD)
    flooder = await irc.client("steady")
    bob = await irc.client("bob")

    async def flood() -> None:
        for i in range(400):  # 50 lines/s against a rate of 5/s
            try:
                await flooder.send(f"PRIVMSG bob :steady {i}")
            except (ConnectionError, OSError):
                return
            await asyncio.sleep(0.02)

    task = asyncio.create_task(flood())
    error = await flooder.expect("ERROR", timeout=15)
    assert len(error.params) == 1 and re.fullmatch(closing_link("Excess Flood"), error.params[0])
    task.cancel()
    got = [m.params[1] for m in await bob.sync() if m.command == "PRIVMSG"]
    # bob got the start of it, in order, and far from all 400; and bob is fine
    assert got[:1] == ["steady 0"]
    assert got == [f"steady {i}" for i in range(len(got))] and len(got) < 400
    await bob.nothing()


async def test_opers_are_exempt(start_server: ServerFactory) -> None:
    irc = await start_server(limits=FLOOD, **OPERS)
    boss = await irc.oper("boss")
    # 200 lines at once: far over the queue of 10 that disconnects anyone else
    await pings(boss, "o", 200)
    lines = await until_pong(boss, "o199")
    assert [m.params[-1] for m in lines] == [f"o{i}" for i in range(200)]


async def test_flood_limits_are_configurable(start_server: ServerFactory) -> None:
    limits = {"flood_control": True, "flood_burst": 50, "flood_rate": 0.1, "flood_max_queue": 5}
    irc = await start_server(limits=limits)
    client = await irc.client("roomy")
    # 40 lines fit the configured burst of 50 (10 or fewer would overflow the queue of 5)
    await pings(client, "c", 40)
    lines = await until_pong(client, "c39")
    assert [m.params[-1] for m in lines] == [f"c{i}" for i in range(40)]
    # the bucket is now nearly empty and refills at 0.1/s: 40 more overflow the queue
    await pings(client, "x", 40)
    error = await client.expect("ERROR")
    assert len(error.params) == 1 and re.fullmatch(closing_link("Excess Flood"), error.params[0])
    assert await client.closed()


# --- send queue ------------------------------------------------------------------


def small_kernel_buffer(irc: RunningServer, nick: str) -> None:
    """Shrink the server side's kernel send buffer, as a slow link would, so
    that what the client does not read piles up in the server's own queue."""
    user = irc.server.world.find_user(nick)
    assert user is not None
    sock = user.sink.link.transport.get_extra_info("socket")  # type: ignore[attr-defined]
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)


def _stalled_socket(port: int, nick: str) -> socket.socket:
    """A client that registers, joins #big, then never reads again."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"NICK {nick}\r\nUSER {nick} 0 * :x\r\nJOIN #big\r\n".encode())
    return sock


async def test_sendq_drops_stalled_readers_with_bounded_memory(start_server: ServerFactory) -> None:
    sendq = 16 * 1024
    irc = await start_server(limits={"sendq": sendq})
    talker, reader = await irc.client("talker"), await irc.client("reader")
    for client in (talker, reader):
        await client.send("JOIN #big")
        await client.expect("366")
    stalled = [_stalled_socket(irc.port(), f"stall{i}") for i in range(10)]
    try:
        while len(irc.server.world.find_channel("#big").members) < 12:  # type: ignore[union-attr]
            await asyncio.sleep(0.02)
        for i in range(10):
            small_kernel_buffer(irc, f"stall{i}")
        text = "x" * 400
        gc.collect()
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        quits: list[Message] = []
        # 2000 * ~450 bytes = 0.9 MB per stalled reader (9 MB) if nothing were dropped.
        for batch in range(100):  # 20 lines at a time: under the healthy reader's sendq
            await talker.send_raw(
                b"".join(f"PRIVMSG #big :{batch}-{i} {text}\r\n".encode() for i in range(20))
            )
            # The healthy reader keeps receiving everything, in order.
            for i in range(20):
                msg = await reader.expect("PRIVMSG")
                assert msg.params[1].startswith(f"{batch}-{i} ")
            quits += [m for m in reader.log if m.command == "QUIT"]
            reader.log.clear()
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        assert peak < 3 * 1024 * 1024, peak
        assert len(quits) == 10 and all("SendQ exceeded" in m.params[0] for m in quits)
        assert len(irc.server.world.connections) == 2
    finally:
        tracemalloc.stop()
        for sock in stalled:
            sock.close()


async def test_sendq_error_reaches_a_reader_that_comes_back(start_server: ServerFactory) -> None:
    # cloak off: the ERROR line below names the real host
    irc = await start_server(limits={"sendq": 8192}, server={"cloak": False})
    talker = await irc.client("talker")
    await talker.send("JOIN #big")
    await talker.expect("366")
    sock = _stalled_socket(irc.port(), "sleepy")
    channel = irc.server.world.find_channel("#big")
    while channel is None or len(channel.members) < 2:
        await asyncio.sleep(0.02)
        channel = irc.server.world.find_channel("#big")
    small_kernel_buffer(irc, "sleepy")
    for _ in range(100):
        await talker.send_raw(
            b"".join(b"PRIVMSG #big :%d %s\r\n" % (i, b"y" * 400) for i in range(10))
        )
        await asyncio.sleep(0.01)
        if irc.server.world.find_user("sleepy") is None:
            break
    assert irc.server.world.find_user("sleepy") is None
    quit_ = await talker.expect("QUIT")
    assert quit_.params == ["SendQ exceeded"]
    # Within the grace period, what was queued and the ERROR still arrive.
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    data = b""
    while chunk := await asyncio.wait_for(loop.sock_recv(sock, 65536), 5):
        data += chunk
    sock.close()
    assert data.endswith(b"ERROR :Closing Link: 127.0.0.1 (SendQ exceeded)\r\n")


# --- receive side ----------------------------------------------------------------


async def test_huge_line_gets_417_and_connection_goes_on(irc: RunningServer) -> None:
    client = await irc.client("big")
    await client.send_raw(b"PRIVMSG big :" + b"z" * 8000 + b"\r\n")
    assert (await client.expect("417")).params[0] == "big"
    await client.send_raw(b"@" + b"a" * 5000 + b" PING :x\r\n")
    assert (await client.expect("417")).params[0] == "big"
    assert [m.command for m in await client.sync()] == []


async def test_partial_line_beyond_limit_is_dropped(irc: RunningServer) -> None:
    client = await irc.client("loris")
    for _ in range(20):  # 20 KB without a line ending, a bit at a time
        await client.send_raw(b"a" * 1024)
    error = await client.expect("ERROR")
    assert "Input line too long" in error.params[0]
    assert await client.closed()
    assert irc.server.world.find_user("loris") is None


async def test_slowloris_before_registration_times_out(start_server: ServerFactory) -> None:
    """The timer runs from connecting, not from the last byte: a client that
    keeps trickling bytes is still cut off (a resetting timer never would be)."""
    irc = await start_server(limits={"registration_timeout": 1.0})
    client = await irc.client()
    stop = asyncio.Event()

    async def trickle() -> int:
        sent = 0
        while not stop.is_set():
            try:
                await client.send_raw(b"N")
            except (ConnectionError, OSError):
                break
            sent += 1
            await asyncio.sleep(0.1)
        return sent

    task = asyncio.create_task(trickle())
    try:
        error = await client.expect("ERROR", timeout=15)
    finally:
        stop.set()
        await task
    # not registered yet, so not cloaked yet: the address itself
    assert error.params == ["Closing Link: 127.0.0.1 (Registration timed out)"]
    assert await client.closed()


async def test_websocket_oversized_frame_closes_cleanly(irc: RunningServer) -> None:
    ws = await irc.websocket("wsbig")
    await ws.send("PRIVMSG wsbig :" + "q" * 20000)
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), TIMEOUT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    await until(lambda: irc.server.world.find_user("wsbig") is None)


async def test_websocket_flood_is_bounded(start_server: ServerFactory) -> None:
    irc = await start_server(limits=FLOOD)
    ws = await irc.websocket("wsflood")
    received: list[str] = []
    with pytest.raises(ConnectionClosed):
        for i in range(2000):
            await ws.send(f"PING :w{i}")
        while True:
            received.append(str(await asyncio.wait_for(ws.recv(), TIMEOUT)))
    errors = [line for line in received if line.startswith("ERROR")]
    assert len(errors) == 1 and re.fullmatch("ERROR :" + closing_link("Excess Flood"), errors[0])
    assert irc.server.world.find_user("wsflood") is None


# --- connection limits --------------------------------------------------------


async def test_throttle_over_sockets(start_server: ServerFactory) -> None:
    irc = await start_server(
        limits={"throttle": True, "exempt": [], "throttle_connections": 3, "max_per_ip": 50}
    )
    for _ in range(3):
        client = await irc.client()
        await client.close()
    refused = await irc.client()
    error = await refused.expect("ERROR")
    assert "throttled" in error.params[0]
    assert await refused.closed()


# --- crash containment ------------------------------------------------------------


async def test_handler_exception_is_contained(
    irc: RunningServer, caplog: pytest.LogCaptureFixture
) -> None:
    def crash(ctx: Context, msg: Message) -> None:
        raise RuntimeError("deliberate")

    async def acrash(ctx: Context, msg: Message) -> None:
        await asyncio.sleep(0)
        raise RuntimeError("deliberate async")

    # Each server has its own command table: these exist on this one only.
    irc.server.commands["CRASHME"] = CommandSpec("CRASHME", crash, 0, False, False, 1, "")
    irc.server.commands["ACRASHME"] = CommandSpec("ACRASHME", acrash, 0, False, False, 1, "")
    try:
        victim, other = await irc.client("victim"), await irc.client("other")
        with caplog.at_level(logging.ERROR):
            await victim.send("CRASHME a b")
            reply = await victim.expect("400")
            assert reply.params[:2] == ["victim", "CRASHME"]
            await victim.send("ACRASHME")
            assert (await victim.expect("400")).params[1] == "ACRASHME"
        records = [r for r in caplog.records if "CRASHME" in r.getMessage()]
        assert len(records) == 2 and all(r.exc_info for r in records)
        assert "victim" in records[0].getMessage()
        await victim.send("PRIVMSG other :still alive")
        assert (await other.expect("PRIVMSG")).params[1] == "still alive"
    finally:
        del irc.server.commands["CRASHME"], irc.server.commands["ACRASHME"]


# --- input hardening --------------------------------------------------------------

UTF8_ONLY = "Message rejected, your IRC software MUST use UTF-8 encoding"
FORBIDDEN = "Line contains forbidden characters"
TOO_LONG = "Input line was too long"
# raw line, the reply expected (command, all its params)
BAD_INPUT: list[tuple[bytes, str, list[str]]] = [
    (b"PRIVMSG bob :\xff\xfe", "FAIL", ["PRIVMSG", "INVALID_UTF8", UTF8_ONLY]),
    (b"PRIVMSG bob :a\x00b", "400", ["alice", "PRIVMSG", FORBIDDEN]),
    (b"PRIVMSG bob :a\rb", "400", ["alice", "PRIVMSG", FORBIDDEN]),
    (b"@+a=" + b"v" * 5000 + b" PRIVMSG bob :hi", "417", ["alice", TOO_LONG]),
    (b"PRIVMSG bob " + b" ".join([b"p"] * 16), "400", ["alice", "PRIVMSG", "Too many parameters"]),
    (b"FROBNICATE bob", "421", ["alice", "FROBNICATE", "Unknown command"]),
    (b"PRIVMSG bob :" + b"w" * 600, "417", ["alice", TOO_LONG]),
]


@pytest.mark.parametrize("line,reply,params", BAD_INPUT, ids=lambda v: repr(v)[:30])
async def test_bad_input_gets_its_reply_and_nothing_else(
    irc: RunningServer, line: bytes, reply: str, params: list[str]
) -> None:
    alice, bob = await irc.client("alice"), await irc.client("bob")
    await alice.send_raw(line + b"\r\n")
    got = await alice.sync()
    assert [(m.command, m.params) for m in got] == [(reply, params)]
    assert await bob.sync() == []


async def test_commands_before_registration_get_451(irc: RunningServer) -> None:
    client = await irc.client()
    for line in ("PRIVMSG x :y", "JOIN #a", "FROBNICATE"):
        await client.send(line)
        assert (await client.expect("451")).params[0] == "*"


async def test_malformed_tag_escapes(irc: RunningServer) -> None:
    caps = ["message-tags"]
    alice, bob = await irc.client("alice", caps), await irc.client("bob", caps)
    await alice.send_raw(b"@+draft/x=a\\qb\\:c\\ TAGMSG bob\r\n")
    msg = await bob.expect("TAGMSG")
    assert msg.tags["+draft/x"] == "aqb;c"
    assert await alice.sync() == []


@pytest.mark.parametrize(
    "text",
    ["\x01VERSION", "\x01\x01", "\x01", "\x01ACTION waves", "\x01PING 123\x01 trailing"],
    ids=["unterminated", "empty", "lone", "unterminated-action", "text-after"],
)
async def test_ctcp_edge_cases_are_relayed_verbatim(irc: RunningServer, text: str) -> None:
    alice, bob = await irc.client("alice"), await irc.client("bob")
    for client in (alice, bob):
        await client.send("JOIN #c")
        await client.expect("366")
    await alice.sync()
    await alice.send(f"PRIVMSG bob :{text}")
    assert (await bob.expect("PRIVMSG")).params == ["bob", text]
    await alice.send(f"PRIVMSG #c :{text}")
    assert (await bob.expect("PRIVMSG")).params == ["#c", text]
    await alice.send(f"NOTICE #c :{text}")
    assert (await bob.expect("NOTICE")).params == ["#c", text]
    assert await alice.sync() == []
    assert await bob.sync() == []
