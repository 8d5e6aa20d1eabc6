"""The session without sockets: bytes in, bytes out (server/session.py), and
the two labeled-response bugs of issue 13 as regression tests."""

from __future__ import annotations

import asyncio
from pathlib import Path

from hubbub.protocol.message import Message
from hubbub.server.api import Context
from hubbub.server.commands.registry import CommandSpec
from sessionkit import MemoryClient, memory_server

LABEL_CAPS = ("labeled-response", "batch", "message-tags")


async def test_a_line_split_across_reads_runs_once_complete(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.session.receive_data(b"NICK ali")
        assert alice.take() == []
        alice.session.receive_data(b"ce\r\nUSER alice 0 * :Alice\r\n")
        welcome = alice.take_messages()
        assert welcome[0].command == "001" and welcome[0].params[0] == "alice"


async def test_unknown_command_carries_the_label_unwrapped(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.register("alice", *LABEL_CAPS)
        alice.receive("@label=u1 FROBNICATE x")
        [reply] = alice.take_messages()
        assert reply.command == "421"
        assert reply.tags == {"label": "u1"}
        assert reply.params == ["alice", "FROBNICATE", "Unknown command"]


async def test_need_more_params_carries_the_label(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.register("alice", *LABEL_CAPS)
        alice.receive("@label=n1 JOIN")
        [reply] = alice.take_messages()
        assert (reply.command, reply.tags) == ("461", {"label": "n1"})
        assert reply.params[:2] == ["alice", "JOIN"]


async def test_no_privileges_carries_the_label(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.register("alice", *LABEL_CAPS)
        alice.receive("@label=k1 KILL bob :bye")
        [reply] = alice.take_messages()
        assert (reply.command, reply.tags) == ("481", {"label": "k1"})


async def test_not_registered_carries_the_label(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.receive("CAP REQ :labeled-response batch", "@label=r1 PRIVMSG bob :hi")
        ack, refusal = alice.take_messages()
        assert ack.command == "CAP"
        assert (refusal.command, refusal.tags) == ("451", {"label": "r1"})


async def test_several_replies_come_in_one_labeled_batch(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.register("alice", *LABEL_CAPS)
        alice.receive("@label=j1 JOIN #room")
        lines = alice.take_messages()
        start, *inner, end = lines
        assert start.command == "BATCH" and start.tags == {"label": "j1"}
        ref = start.params[0][1:]
        assert start.params == ["+" + ref, "labeled-response"]
        assert [m.command for m in inner] == ["JOIN", "353", "366"]
        assert all(m.tags.get("batch") == ref and "label" not in m.tags for m in inner)
        assert (end.command, end.params) == ("BATCH", ["-" + ref])


async def test_a_command_with_no_reply_is_acknowledged(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.register("alice", *LABEL_CAPS)
        alice.receive("@label=p1 PONG :x")
        [ack] = alice.take_messages()
        assert (ack.command, ack.tags, ack.params) == ("ACK", {"label": "p1"}, [])


async def test_others_messages_are_not_captured_by_a_running_labeled_command(
    tmp_path: Path,
) -> None:
    """A PRIVMSG from bob while alice's labeled async command waits goes to
    alice at once, unlabeled, outside her labeled-response batch."""
    release = asyncio.Event()

    async def slow(ctx: Context, msg: Message) -> None:
        ctx.send("NOTICE", ctx.nick, "started")
        await release.wait()
        ctx.send("NOTICE", ctx.nick, "finished")

    async with memory_server(tmp_path) as server:
        server.commands = {
            **server.commands,
            "SLOW": CommandSpec("SLOW", slow, 0, False, False, 1, "test"),
        }
        alice = MemoryClient(server)
        bob = MemoryClient(server)
        alice.register("alice", *LABEL_CAPS)
        bob.register("bob")
        alice.receive("@label=s1 SLOW")
        await asyncio.sleep(0)  # the handler runs up to its wait
        assert alice.take() == []  # its first reply is held in its buffer
        bob.receive("PRIVMSG alice :hello while you wait")
        [direct] = alice.take_messages()
        assert direct.command == "PRIVMSG" and direct.source is not None
        assert direct.source.startswith("bob!") and direct.params == [
            "alice",
            "hello while you wait",
        ]
        assert "label" not in direct.tags and "batch" not in direct.tags
        release.set()
        for _ in range(3):
            await asyncio.sleep(0)
        start, first, second, end = alice.take_messages()
        assert start.command == "BATCH" and start.tags["label"] == "s1"
        assert [first.params[-1], second.params[-1]] == ["started", "finished"]
        assert first.tags["batch"] == second.tags["batch"] == start.params[0][1:]
        assert end.params == ["-" + start.params[0][1:]]


async def test_a_flooder_is_held_then_dropped_past_the_queue_bound(tmp_path: Path) -> None:
    """Flood control: ``flood_burst`` lines run, up to ``flood_max_queue``
    wait, one more line is "Excess Flood". The clock stands still."""
    limits: dict[str, object] = {
        "flood_control": True,
        "flood_burst": 2,
        "flood_rate": 1,
        "flood_max_queue": 3,
    }
    async with memory_server(tmp_path, limits=limits) as server:
        alice = MemoryClient(server, clock=lambda: 1000.0)
        alice.receive("NICK alice", "USER a 0 * :A", "PING a", "PING b", "PING c")
        assert " 001 alice " in alice.take()[0]  # the first two lines ran
        assert alice.link.reading and not alice.link.closed  # three wait: at the bound
        alice.receive("PING d")
        lines = alice.take()
        assert lines[-1].startswith("ERROR :Closing Link: ")
        assert lines[-1].endswith("(Excess Flood)")
        assert not any("PONG" in line for line in lines)
        assert alice.link.closed
