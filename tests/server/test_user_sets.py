"""A user's sets (modes, caps, invites, monitored nicks, metadata
subscriptions) start as one shared empty set, to keep idle clients small
(docs/performance.md, "Idle memory per client"): what one client puts in
its own never shows on another, and a set emptied again is given back."""

from __future__ import annotations

from harness import RunningServer
from hubbub.server.state import NOTHING, User


def _user(irc: RunningServer, nick: str) -> User:
    return irc.server.world.users[nick]


async def test_what_one_client_adds_never_shows_on_another(irc: RunningServer) -> None:
    alice = await irc.client("alice", ["message-tags", "draft/metadata-3"])
    bob = await irc.client("bob")
    await irc.client("carol")
    await alice.ask("MODE alice +i")
    await alice.ask("MONITOR + carol")
    await alice.ask("METADATA * SUB avatar")
    await alice.ask("JOIN #room")
    await alice.ask("INVITE carol #room")

    assert await bob.answers("CAP LIST") == [("CAP", ["bob", "LIST", ""])]
    assert await bob.answers("MODE bob") == [("221", ["bob", "+"])]
    assert [m.command for m in await bob.ask("MONITOR L")] == ["733"]
    assert await alice.answers("CAP LIST") == [
        ("CAP", ["alice", "LIST", "cap-notify draft/metadata-3 message-tags"])
    ]
    assert await alice.answers("MODE alice") == [("221", ["alice", "+i"])]
    assert [m.command for m in await alice.ask("MONITOR L")] == ["732", "733"]
    user = _user(irc, "bob")
    assert (user.modes, user.caps, user.invites, user.monitoring, user.metadata_subs) == (
        NOTHING,
    ) * 5
    assert _user(irc, "carol").invites == {irc.server.world.channels["#room"]}


async def test_a_set_emptied_again_is_the_shared_one(irc: RunningServer) -> None:
    alice = await irc.client("alice", ["draft/metadata-3"])
    carol = await irc.client("carol")
    await alice.ask("MODE alice +i")
    await alice.ask("MONITOR + carol")
    await alice.ask("METADATA * SUB avatar")
    await alice.ask("JOIN #room")
    await alice.ask("INVITE carol #room")

    await alice.ask("MODE alice -i")
    await alice.ask("MONITOR - carol")
    await alice.ask("METADATA * UNSUB avatar")
    await carol.ask("JOIN #room")  # the invite is used up
    await alice.expect("JOIN")

    assert [m.command for m in await alice.ask("MONITOR L")] == ["733"]
    alice_user, carol_user = _user(irc, "alice"), _user(irc, "carol")
    assert alice_user.modes is NOTHING
    assert alice_user.monitoring is NOTHING
    assert alice_user.metadata_subs is NOTHING
    assert carol_user.invites is NOTHING
