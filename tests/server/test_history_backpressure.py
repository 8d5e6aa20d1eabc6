"""History storage under pressure, over real sockets against a real server:
when the history writer cannot keep up, senders wait (their later lines are
not processed) instead of the buffer growing; the buffer stays within its
bound; every message a client saw echoed is in the database afterwards, also
when the writer process or the whole server is killed with SIGKILL.

The slow store is the real one with its database's write lock held by the
test, so the writer process waits in SQLite exactly as behind a slow disk."""

from __future__ import annotations

import os
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import HOST, RunningServer, ServeProcess, ServerFactory, join_all, until
from hubbub.server.session import _stores_history
from hubbub.store.sql.history import SqlHistory
from ircclient import RawClient

ECHO = ["echo-message", "message-tags"]
NO_LIMITS = {"flood_control": False, "throttle": False}


@contextmanager
def write_lock_held(database: Path) -> Iterator[None]:
    """Hold the database's write lock: every history write waits meanwhile."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        yield
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def stored_msgids(database: Path) -> list[str]:
    """The stored messages' msgids (not the channel events', e.g. the JOINs);
    a derived one (protocol/msgid.py) from its row id."""
    query = (
        "SELECT COALESCE(msgid, 'H' || id) FROM history"
        " WHERE command IN ('PRIVMSG', 'NOTICE') ORDER BY id"
    )
    with sqlite3.connect(database) as conn:
        return [msgid for (msgid,) in conn.execute(query)]


def integrity(database: Path) -> str:
    with sqlite3.connect(database) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def lines(prefix: str, count: int) -> bytes:
    return b"".join(f"PRIVMSG #c :{prefix} {n}\r\n".encode() for n in range(count))


async def echoed(client: RawClient) -> list[str]:
    """The msgids of the client's own messages echoed back, up to a PING barrier."""
    return [m.tags["msgid"] for m in await client.sync() if m.command == "PRIVMSG"]


def history_of(irc: RunningServer) -> SqlHistory:
    history = irc.server.store.history
    assert isinstance(history, SqlHistory)
    return history


async def test_a_slow_history_store_makes_senders_wait(start_server: ServerFactory) -> None:
    irc = await start_server(history={"buffer_max": 256})
    buffer = history_of(irc).buffer
    database = irc.server.config.database_path
    senders = [await irc.client(f"s{i}", caps=ECHO) for i in range(4)]
    bob = await irc.client("bob")
    await join_all("#c", *senders, bob)
    await irc.server.store.flush()  # the JOINs (event-playback) are written
    with write_lock_held(database):
        for i, sender in enumerate(senders):
            await sender.send_raw(lines(f"s{i}", 150))  # 600 in all, the bound is 256
        await until(buffer.congested)
        seen = [m for m in await bob.sync() if m.command == "PRIVMSG"]
        # Nothing more gets through while the writer is stuck: the senders'
        # remaining lines wait unread, and the buffer stays within its bound.
        assert [m for m in await bob.sync() if m.command == "PRIVMSG"] == []
        assert buffer.high_water <= len(seen) < 600
        assert buffer.held <= buffer.max_pending
        assert buffer.stats.congestions == 1  # hubbub_history_congestions_total
    # The writer catches up, and the senders' lines are processed, in order.
    sent: list[str] = []
    for i, sender in enumerate(senders):
        mine = [
            m
            for m in await sender.sync()
            if m.command == "PRIVMSG" and m.params[1].startswith(f"s{i} ")
        ]
        assert [m.params[1] for m in mine] == [f"s{i} {n}" for n in range(150)]
        sent += [m.tags["msgid"] for m in mine]
    assert len([m for m in await bob.sync() if m.command == "PRIVMSG"]) == 600 - len(seen)
    await irc.server.store.flush()
    assert sorted(stored_msgids(database)) == sorted(sent)  # nothing acknowledged is lost
    assert buffer.peak <= buffer.max_pending and buffer.overruns == 0
    assert not buffer.congested()


async def test_a_line_with_the_most_targets_stays_within_the_bound(
    start_server: ServerFactory,
) -> None:
    """The worst line for the bound: one PRIVMSG to ``targmax`` (here the
    largest allowed, 100) channels adds 100 messages after the last check."""
    irc = await start_server(history={"buffer_max": 256}, limits={**NO_LIMITS, "targmax": 100})
    buffer = history_of(irc).buffer
    sender = await irc.client("sender", caps=ECHO)
    channels = ",".join(f"#c{n}" for n in range(100))
    await sender.ask(f"JOIN {channels}")
    await irc.server.store.flush()  # the JOINs (event-playback) are written
    with write_lock_held(irc.server.config.database_path):
        # 91 messages, then lines of 100: 191 (just under the congestion mark
        # were it 64 under the bound), then 291, were the headroom too small.
        await sender.send_raw(b"".join(b"PRIVMSG #c0 :single\r\n" for _ in range(91)))
        await sender.send_raw(
            b"".join(f"PRIVMSG {channels} :wide {n}\r\n".encode() for n in range(6))
        )
        await until(buffer.congested)
        assert buffer.held <= buffer.max_pending
    echoes = [m for m in await sender.sync() if m.command == "PRIVMSG"]
    assert len(echoes) == 91 + 600
    await irc.server.store.flush()
    assert sorted(stored_msgids(irc.server.config.database_path)) == sorted(
        m.tags["msgid"] for m in echoes
    )
    assert 256 - 128 <= buffer.peak <= buffer.max_pending and buffer.overruns == 0


async def test_other_commands_go_on_while_a_sender_waits(start_server: ServerFactory) -> None:
    """Only lines history would store are held: the same client's NAMES, and
    other clients, carry on while the store is congested; a held message is
    delivered, in order, once the writer has caught up."""
    irc = await start_server(history={"buffer_max": 256})
    buffer = history_of(irc).buffer
    sender = await irc.client("sender")
    carol = await irc.client("carol")
    dave = await irc.client("dave")
    await join_all("#c", sender, carol)
    with write_lock_held(irc.server.config.database_path):
        await sender.send_raw(lines("x", 400))
        await until(buffer.congested)
        answer = await carol.ask("NAMES #c")
        assert "353" in [m.command for m in answer]  # carol is served
        got = [m.params[1] for m in answer if m.command == "PRIVMSG"]
        await carol.send("PRIVMSG #c :carol waits")  # held, not refused
        pong = ("PONG", ["irc.test.local", "still-here"])
        assert await dave.answers("PING still-here") == [pong]  # the server goes on
        assert buffer.congested()
    # The sender's PONG comes after all its lines; carol's after her own.
    heard = [m.params[1] for m in await sender.sync() if m.command == "PRIVMSG"]
    got += [m.params[1] for m in await carol.sync() if m.command == "PRIVMSG"]
    assert got == [f"x {n}" for n in range(400)]
    heard += [m.params[1] for m in await sender.sync() if m.command == "PRIVMSG"]
    assert heard == ["carol waits"]


async def test_a_killed_writer_process_loses_nothing(start_server: ServerFactory) -> None:
    irc = await start_server()
    history = history_of(irc)
    database = irc.server.config.database_path
    alice = await irc.client("alice", caps=ECHO)
    bob = await irc.client("bob")
    await join_all("#c", alice, bob)
    with write_lock_held(database):
        await alice.send_raw(lines("before", 50))
        sent = await echoed(alice)
        writer = history.writer
        assert writer is not None
        # A batch is on its way to the writer, which is stuck on the lock.
        await until(lambda: history.buffer.in_flight > 0 and writer.pid is not None)
        assert writer.pid is not None and writer.pid != os.getpid()
        os.kill(writer.pid, signal.SIGKILL)
        await alice.send_raw(lines("after", 50))
        sent += await echoed(alice)
    await irc.server.store.flush()
    assert len(sent) == 100
    assert sorted(stored_msgids(database)) == sorted(sent)
    assert writer.starts == 2
    assert integrity(database) == "ok"


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


async def test_a_server_killed_with_sigkill_leaves_a_consistent_database(
    tmp_path: Path,
) -> None:
    """The writer process outlives its server only to finish what it was
    sent, then exits; what was stored before the kill is there, once."""
    async with ServeProcess.on_free_ports(tmp_path, "--no-flood-control") as serve:
        database = tmp_path / "data" / "hubbub.db"
        alice = await serve.client("alice", caps=ECHO)
        bob = await serve.client("bob")
        await join_all("#c", alice, bob)
        await alice.send_raw(lines("early", 20))
        early = await echoed(alice)
        await until(lambda: len(stored_msgids(database)) == 20)  # written by now
        await alice.send_raw(lines("late", 200))
        late = await echoed(alice)
        assert serve.proc is not None
        writers = children_of(serve.proc.pid)
        assert len(writers) == 1
        serve.proc.send_signal(signal.SIGKILL)
        serve.proc.wait()
        await until(lambda: not Path(f"/proc/{writers[0]}").exists())
    stored = stored_msgids(database)
    assert stored[:20] == early
    assert len(set(stored)) == len(stored) and set(stored) <= set(early + late)
    assert integrity(database) == "ok"
    async with ServeProcess.on_free_ports(tmp_path) as again:  # it opens and serves
        assert HOST and await (await again.client("carol")).answers("PING x")


@pytest.mark.parametrize(
    ("line", "stored"),
    [
        (b"PRIVMSG #c :hi", True),
        (b"notice bob :hi", True),
        (b"@+typing=active TAGMSG #c", True),
        (b"@label=x  :me!u@h PrivMsg bob :hi there", True),
        (b"PING :PRIVMSG", False),
        (b"NAMES #c", False),
        (b"@a=b PRIVMSGX #c :x", False),
        (b":source", False),
        (b"", False),
    ],
)
def test_which_lines_wait_for_a_congested_history(line: bytes, stored: bool) -> None:
    assert _stores_history(line) is stored
