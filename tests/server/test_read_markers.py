"""draft/read-marker: MARKREAD get/set, forward only, on JOIN before 366,
shared by the account's clients and kept across a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import RunningServer, ServerFactory, joined, sasl_plain
from ircclient import RawClient

pytestmark = pytest.mark.usefixtures("cheap_hashes")

CAP = "draft/read-marker"
TS = "2019-01-04T14:33:26.123Z"


def markreads(lines: list) -> list[list[str]]:
    return [m.params for m in lines if m.command == "MARKREAD"]


async def login_as(
    irc: RunningServer, nick: str, account: str, password: str, caps: list[str]
) -> RawClient:
    """A client registered as ``nick`` and logged in by SASL to ``account``."""
    client = await irc.client()
    await client.send("CAP LS 302")
    await client.send("CAP REQ :" + " ".join(["sasl", *caps]))
    await client.send(f"NICK {nick}")
    await client.send(f"USER {nick} 0 * :{nick}")
    await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    assert (await sasl_plain(client, account, password)).command == "903"
    await client.send("CAP END")
    await client.expect("376")
    client.nick = nick
    return client


async def test_get_set_and_never_backwards(irc: RunningServer) -> None:
    alice = await irc.client("alice", [CAP])
    assert markreads(await alice.ask("MARKREAD #nowhere")) == [["#nowhere", "*"]]
    assert markreads(await alice.ask(f"MARKREAD #tea timestamp={TS}")) == [
        ["#tea", f"timestamp={TS}"]
    ]
    assert markreads(await alice.ask("MARKREAD #TEA")) == [["#TEA", f"timestamp={TS}"]]
    older = "2018-01-01T00:00:00.000Z"
    assert markreads(await alice.ask(f"MARKREAD #tea timestamp={older}")) == [
        ["#tea", f"timestamp={TS}"]
    ]
    # a nick is a target too (a private conversation)
    assert markreads(await alice.ask(f"MARKREAD bob timestamp={TS}")) == [
        ["bob", f"timestamp={TS}"]
    ]


async def test_a_marker_in_the_future_stops_at_now(irc: RunningServer) -> None:
    alice = await irc.client("alice", [CAP])
    [[_, stamp]] = markreads(await alice.ask("MARKREAD #tea timestamp=2999-01-01T00:00:00.000Z"))
    assert stamp.startswith("timestamp=20") and not stamp.startswith("timestamp=2999")


async def test_bad_input_gets_fail(irc: RunningServer) -> None:
    alice = await irc.client("alice", [CAP])
    fails = [m.params[:2] for m in await alice.ask("MARKREAD") if m.command == "FAIL"]
    assert fails == [["MARKREAD", "NEED_MORE_PARAMS"]]
    for bad in ("#tea *", "#tea timestamp=not-a-time", "#tea timestamp=2019-13-45T99:00:00Z"):
        lines = await alice.ask(f"MARKREAD {bad}")
        assert [m.params[:2] for m in lines] == [["MARKREAD", "INVALID_PARAMS"]], bad
    lines = await alice.ask(f"MARKREAD bad,target timestamp={TS}")
    assert [m.params[:2] for m in lines] == [["MARKREAD", "INVALID_PARAMS"]]


async def test_on_join_before_end_of_names(irc: RunningServer) -> None:
    alice = await irc.client("alice", [CAP])
    lines = await joined(alice, "#tea")
    commands = [m.command for m in lines]
    assert commands.index("JOIN") < commands.index("MARKREAD") < commands.index("366")
    assert markreads(lines) == [["#tea", "*"]]
    await alice.ask(f"MARKREAD #tea timestamp={TS}")
    await alice.ask("PART #tea")
    assert markreads(await joined(alice, "#tea")) == [["#tea", f"timestamp={TS}"]]
    # without the cap: no MARKREAD on JOIN
    bob = await irc.client("bob")
    assert markreads(await joined(bob, "#tea")) == []


async def test_shared_by_the_account_and_kept_across_restart(
    start_server: ServerFactory, tmp_path: Path
) -> None:
    irc = await start_server()
    await irc.account("alice", "pw-alice-1")
    a = await login_as(irc, "alice", "alice", "pw-alice-1", [CAP])
    b = await login_as(irc, "alice_b", "alice", "pw-alice-1", [CAP])
    plain = await login_as(irc, "alice_c", "alice", "pw-alice-1", [])
    await a.ask(f"MARKREAD #tea timestamp={TS}")
    assert markreads(await b.sync()) == [["#tea", f"timestamp={TS}"]]
    await plain.nothing()  # no cap: not told
    # an older marker from B moves nothing and tells nobody else
    assert markreads(await b.ask("MARKREAD #tea timestamp=2001-01-01T00:00:00.000Z")) == [
        ["#tea", f"timestamp={TS}"]
    ]
    await a.nothing()
    # another account, and a guest, do not see alice's marker
    guest = await irc.client("guest", [CAP])
    assert markreads(await guest.ask("MARKREAD #tea")) == [["#tea", "*"]]

    await irc.server.store.flush()
    data_dir = irc.server.config.server.data_dir
    for client in irc.clients:
        await client.close()
    irc.clients.clear()
    await irc.server.stop()

    again = await start_server(server={"data_dir": str(data_dir)})
    c = await login_as(again, "alice", "alice", "pw-alice-1", [CAP])
    assert markreads(await joined(c, "#tea")) == [["#tea", f"timestamp={TS}"]]


async def test_a_guest_marker_goes_with_its_connection(irc: RunningServer) -> None:
    first = await irc.client("guest", [CAP])
    await first.ask(f"MARKREAD #tea timestamp={TS}")
    await first.send("QUIT")
    assert await first.closed()
    second: RawClient = await irc.client("guest", [CAP])
    assert markreads(await second.ask("MARKREAD #tea")) == [["#tea", "*"]]
