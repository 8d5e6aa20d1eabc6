"""The domain actions that change modes, memberships and presence, without
sockets: the MODE command, services and OPER all end in ``set_modes`` /
``set_user_modes``; JOIN ends in ``join``, which runs the ``joined`` hooks."""

from __future__ import annotations

from pathlib import Path

from hubbub.server import actions
from hubbub.server.api import Context, ModeChange, ServerApi
from hubbub.server.state import Channel
from sessionkit import MemoryClient, memory_server


def _commands(client: MemoryClient) -> list[tuple[str, list[str]]]:
    return [(m.command, m.params) for m in client.take_messages()]


async def test_the_mode_command_and_a_service_share_set_modes(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        seen: list[tuple[str, str, list[ModeChange]]] = []

        def record(
            _server: ServerApi, channel: Channel, setter: str, applied: list[ModeChange]
        ) -> None:
            seen.append((channel.name, setter, applied))

        server.hooks.modes_changed.append(record)
        alice, bob = MemoryClient(server), MemoryClient(server)
        alice.register("alice")
        bob.register("bob")
        alice.receive("JOIN #a")
        bob.receive("JOIN #a")
        alice.take(), bob.take()
        alice.receive("MODE #a +mk-t secret")
        assert _commands(bob) == [("MODE", ["#a", "+mk-t", "secret"])]
        channel = server.world.find_channel("#a")
        assert channel is not None
        applied = actions.set_modes(
            server, channel, "ChanServ!ChanServ@services", [ModeChange(True, "v", "bob")]
        )
        assert applied == [ModeChange(True, "v", "bob")]
        assert [(m.source, m.params) for m in bob.take_messages()] == [
            ("ChanServ!ChanServ@services", ["#a", "+v", "bob"])
        ]
        assert channel.key == "secret" and channel.modes == {"n", "m"}
        assert channel.members[bob.session.user] == "v"
        assert [(name, setter) for name, setter, _ in seen] == [
            ("#a", alice.session.user.source),
            ("#a", "ChanServ!ChanServ@services"),
        ]
        assert seen[0][2] == [
            ModeChange(True, "m"),
            ModeChange(True, "k", "secret"),
            ModeChange(False, "t"),
        ]


async def test_set_modes_reports_bad_parameters_and_changes_nothing_twice(
    tmp_path: Path,
) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.register("alice")
        alice.receive("JOIN #a")
        alice.take()
        channel = server.world.find_channel("#a")
        assert channel is not None
        problems: list[tuple[str, ...]] = []
        changes = [ModeChange(True, "l", "0"), ModeChange(True, "o", "ghost")]
        assert (
            actions.set_modes(server, channel, "x", changes, report=lambda *p: problems.append(p))
            == []
        )
        assert [p[0] for p in problems] == ["696", "401"]
        assert actions.set_modes(server, channel, "x", [ModeChange(True, "n")]) == []
        assert alice.take() == []


async def test_user_modes_and_oper_up_go_through_set_user_modes(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice = MemoryClient(server)
        alice.register("alice")
        user = alice.session.user
        alice.receive("MODE alice +i")
        assert _commands(alice) == [("MODE", ["alice", "+i"])]
        assert server.world.invisible_count() == 1
        # +o is never given by a MODE a user sends, only by OPER.
        assert actions.set_user_modes(server, user, [ModeChange(True, "o")]) == []
        assert alice.take() == []
        actions.oper_up(server, user, "admin")
        assert _commands(alice) == [("MODE", ["alice", "+o"])]
        assert user.is_oper and user.oper_name == "admin"
        assert server.world.oper_count() == 1


async def test_join_runs_the_joined_hooks_after_the_join_replies(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        calls: list[tuple[str, str, bool]] = []

        def hook(ctx: Context, channel: Channel, created: bool) -> None:
            calls.append((ctx.user.nick, channel.name, created))
            ctx.send("NOTICE", ctx.user.nick, "after the replies")

        server.hooks.joined.append(hook)
        alice, bob = MemoryClient(server), MemoryClient(server)
        alice.register("alice")
        bob.register("bob")
        alice.receive("JOIN #new")
        assert [c for c, _ in _commands(alice)] == ["JOIN", "353", "366", "NOTICE"]
        bob.receive("JOIN #new")
        assert [c for c, _ in _commands(bob)] == ["JOIN", "353", "366", "NOTICE"]
        assert calls == [("alice", "#new", True), ("bob", "#new", False)]
        channel = server.world.find_channel("#new")
        assert channel is not None
        assert channel.members == {alice.session.user: "o", bob.session.user: ""}


async def test_a_creator_refused_after_the_create_hooks_leaves_no_channel(
    tmp_path: Path,
) -> None:
    async with memory_server(tmp_path) as server:

        def restore_key(_ctx: Context, channel: Channel) -> bool:
            channel.key = "k"  # what ChanServ does for a registered channel
            return False  # and its creator is not an operator there

        server.hooks.channel_create.append(restore_key)
        alice = MemoryClient(server)
        alice.register("alice")
        alice.receive("JOIN #kept")
        assert [c for c, _ in _commands(alice)] == ["475"]
        assert server.world.find_channel("#kept") is None
        alice.receive("JOIN #kept k")
        assert _commands(alice)[0][0] == "JOIN"
        channel = server.world.find_channel("#kept")
        assert channel is not None and channel.members == {alice.session.user: ""}


async def test_away_and_setname_are_actions_told_to_neighbours(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice, bob = MemoryClient(server), MemoryClient(server)
        alice.register("alice")
        bob.register("bob", "away-notify", "setname")
        alice.receive("JOIN #a")
        bob.receive("JOIN #a")
        alice.take(), bob.take()
        alice.receive("AWAY :lunch")
        assert _commands(alice) == [("306", ["alice", "You have been marked as being away"])]
        assert _commands(bob) == [("AWAY", ["lunch"])]
        alice.receive("AWAY", "AWAY")
        assert [c for c, _ in _commands(alice)] == ["305", "305"]
        assert _commands(bob) == [("AWAY", [])]  # the second AWAY changed nothing
        assert alice.session.user.away is None
        assert actions.set_away(Context(server, alice.session.user), None) is False
        alice.receive("SETNAME :Alice A.")
        assert _commands(bob) == [("SETNAME", ["Alice A."])]
        assert alice.session.user.realname == "Alice A."


async def test_only_an_operators_invite_is_recorded(tmp_path: Path) -> None:
    async with memory_server(tmp_path) as server:
        alice, bob, carol = MemoryClient(server), MemoryClient(server), MemoryClient(server)
        for client, nick in ((alice, "alice"), (bob, "bob"), (carol, "carol")):
            client.register(nick)
        alice.receive("JOIN #a")
        bob.receive("JOIN #a")
        channel = server.world.find_channel("#a")
        assert channel is not None
        actions.invite(Context(server, bob.session.user), channel, carol.session.user, record=False)
        assert carol.session.user not in channel.invited
        assert _commands(carol) == [("INVITE", ["carol", "#a"])]
        alice.receive("INVITE carol #a")
        assert carol.session.user in channel.invited
        assert _commands(carol) == [("INVITE", ["carol", "#a"])]
