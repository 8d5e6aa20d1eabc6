"""The mirror without sockets or Redis: other nodes' events applied to a real
server's world (tests/sessionkit.py), delivered only to its own sessions,
with the origin's msgid and time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hubbub.server import actions
from hubbub.server.app import Server
from hubbub.server.cluster.mirror import Mirror
from sessionkit import MemoryClient, memory_server

AT = 1_700_000_000.25  # 2023-11-14T22:13:20.250Z
BOB = ":bob!~bob@cloaked.hubbub"


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async with memory_server(tmp_path / "data") as running:
        yield running


def event(kind: str, node: str = "n2", run: str = "run1", **fields: Any) -> dict[str, Any]:
    return {"t": kind, "n": node, "i": run, "u": f"{node}.{run}.7", **fields}


def bob(node: str = "n2", run: str = "run1") -> dict[str, Any]:
    return event(
        "user",
        node,
        run,
        srv=f"{node}.test.local",
        nick="bob",
        user="~bob",
        host="cloaked.hubbub",
        real="Bob",
        acct=None,
        away=None,
        modes="i",
    )


Closed = list[tuple[str, str, str | None]]  # (uid, reason, the killer's source)


def mirror_of(server: Server, closed: Closed) -> Mirror:
    return Mirror(
        server, lambda uid: None, lambda uid, reason, by: closed.append((uid, reason, by))
    )


async def alice_in_tea(server: Server) -> MemoryClient:
    alice = MemoryClient(server)
    alice.register("alice")
    alice.receive("CAP REQ :message-tags server-time", "JOIN #tea")
    alice.take()
    return alice


async def test_a_remote_message_reaches_local_members_with_the_origins_tags(
    server: Server,
) -> None:
    alice = await alice_in_tea(server)
    mirror = mirror_of(server, [])
    mirror.apply(bob())
    mirror.apply(event("join", ch="#tea", p=""))
    [join] = alice.take()
    assert join.endswith(f"{BOB} JOIN #tea")
    mirror.apply(event("join", ch="#tea", p=""))  # a burst repeating it: nothing new
    assert alice.take() == []
    mirror.apply(event("msg", cmd="PRIVMSG", to="#tea", ch=1, text="hi", id="abc123", at=AT))
    assert alice.take() == [f"@msgid=abc123;time=2023-11-14T22:13:20.250Z {BOB} PRIVMSG #tea :hi"]
    alice.receive("WHOIS bob")
    whois = alice.take()
    assert any(" 312 alice bob n2.test.local :" in line for line in whois), whois


async def test_a_split_quits_the_nodes_users_and_frees_their_nicks(server: Server) -> None:
    alice = await alice_in_tea(server)
    mirror = mirror_of(server, [])
    mirror.apply(bob())
    mirror.apply(event("join", ch="#tea", p="o"))
    alice.take()
    assert mirror.split("n2") == 1
    [quit_] = alice.take()
    assert quit_.endswith(f"{BOB} QUIT :*.net *.split")
    assert server.world.find_user("bob") is None
    assert [member.nick for member in server.world.channels["#tea"].members] == ["alice"]


async def test_a_restarted_node_loses_the_users_of_its_last_run(server: Server) -> None:
    alice = await alice_in_tea(server)
    mirror = mirror_of(server, [])
    mirror.saw_node("n2", "run1")  # as the backplane does for every event
    mirror.apply(bob(run="run1"))
    mirror.apply(event("join", ch="#tea", p=""))
    alice.take()
    mirror.saw_node("n2", "run2")
    assert alice.take()[-1].endswith(f"{BOB} QUIT :*.net *.split")
    assert server.world.find_user("bob") is None


async def test_a_kill_of_a_remote_user_goes_to_its_node(server: Server) -> None:
    closed: Closed = []
    mirror = mirror_of(server, closed)
    mirror.apply(bob())
    target = server.world.find_user("bob")
    assert target is not None
    actions.kill(server, target, "spam", by="oper", source="oper!o@h")
    assert closed == [("n2.run1.7", "Killed (oper (spam))", "oper!o@h")]
    server.disconnect(target, "Ghosted", quit_message="Ghosted")  # NickServ GHOST
    assert closed[-1] == ("n2.run1.7", "Ghosted", None)


async def test_events_of_unknown_users_and_kinds_change_nothing(server: Server) -> None:
    alice = await alice_in_tea(server)
    mirror = mirror_of(server, [])
    mirror.apply(event("msg", cmd="PRIVMSG", to="#tea", ch=1, text="who?", id="x", at=AT))
    mirror.apply(event("part", ch="#tea"))
    mirror.apply(event("no-such-kind"))
    assert alice.take() == []


async def test_links_name_the_live_nodes_servers_until_they_are_split(server: Server) -> None:
    mirror = mirror_of(server, [])
    mirror.saw_node("n3", "run1")
    mirror.apply(event("server", "n3", srv="n3.test.local", desc="third"))
    mirror.saw_node("n2", "run1")
    assert mirror.links() == [("n3.test.local", "third")]  # n2 has not named its server yet
    mirror.apply(event("server", "n2", srv="n2.test.local", desc="second"))
    assert mirror.links() == [("n2.test.local", "second"), ("n3.test.local", "third")]
    mirror.split("n3")
    assert mirror.links() == [("n2.test.local", "second")]
