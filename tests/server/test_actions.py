"""Domain actions and per-server features, without sockets: the panel and
the commands share one action; two servers in one process share no state."""

from __future__ import annotations

from pathlib import Path

from hubbub.panel.runner import kick_from_channels, kill
from hubbub.server.api import Context
from hubbub.server.commands.chanserv_channels import ChanServState
from hubbub.server.commands.serverbans import BanList
from hubbub.server.nick_protection import rename_to_guest
from hubbub.server.services import find_service
from sessionkit import MemoryClient, memory_server


async def test_the_panel_kick_is_the_kick_action(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice, bob = MemoryClient(server), MemoryClient(server)
        alice.register("alice")
        bob.register("bob")
        alice.receive("JOIN #a", "JOIN #b")
        bob.receive("JOIN #a")
        alice.take(), bob.take()
        assert kick_from_channels(server, alice.session.user.connection_id, "out") == 2
        kicks = [m for m in bob.take_messages() if m.command == "KICK"]
        assert [(k.source, k.params) for k in kicks] == [(server.name, ["#a", "alice", "out"])]
        assert alice.session.user.channels == {}


async def test_the_panel_kill_is_the_kill_action(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice, bob = MemoryClient(server), MemoryClient(server)
        alice.register("alice")
        bob.register("bob")
        alice.receive("JOIN #a")
        bob.receive("JOIN #a")
        alice.take(), bob.take()
        assert kill(server, alice.session.user.connection_id, "spam")
        text = f"Killed ({server.name} (spam))"
        to_alice = alice.take_messages()
        assert (to_alice[0].command, to_alice[0].params) == ("KILL", ["alice", text])
        [quit_] = bob.take_messages()
        assert (quit_.command, quit_.params) == ("QUIT", [text])


async def test_a_guest_rename_is_a_real_nick_change(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice, bob = MemoryClient(server), MemoryClient(server)
        alice.register("alice")
        bob.register("bob")
        bob.receive("MONITOR + alice")
        bob.take()
        alice.receive("JOIN #a")
        bob.receive("JOIN #a")
        alice.take(), bob.take()
        rename_to_guest(Context(server, alice.session.user))
        guest = alice.session.user.nick
        assert guest.startswith("Guest")
        seen = bob.take_messages()
        nick = next(m for m in seen if m.command == "NICK")
        assert nick.source is not None and nick.source.startswith("alice!")
        assert nick.params == [guest]
        assert [m.command for m in seen if m.command in ("730", "731")] == ["731"]
        assert server.world.whowas[0].nick == "alice"


async def test_two_servers_share_no_feature_state(tmp_path: Path) -> None:
    async with (
        memory_server(tmp_path / "one") as one,
        memory_server(tmp_path / "two") as two,
    ):
        assert one.hooks is not two.hooks
        assert one.feature(BanList) is not two.feature(BanList)
        assert one.feature(ChanServState) is not two.feature(ChanServState)
        service = find_service(one, "NickServ")
        assert service is not None and service is not find_service(two, "NickServ")
        one.hooks.services.pop("nickserv")
        assert find_service(one, "NickServ") is None
        assert find_service(two, "NickServ") is not None
        one.commands.pop("WALLOPS")
        assert "WALLOPS" in two.commands
