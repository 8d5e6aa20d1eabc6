"""Host cloaking (issue 12, M7): nobody but operators and the user themself
learns a user's IP address; the cloak is a keyed hash, stable per address,
across reconnects and restarts."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from harness import RunningServer, ServerFactory, make_config
from hubbub.protocol.message import Message
from hubbub.server.app import Server
from hubbub.server.cloak import (
    SECRET_FILE,
    CloakKeyError,
    cloak_host,
    load_or_create_secret,
)
from hubbub.server.config import ConfigError, parse_config
from ircclient import RawClient

IP = "127.0.0.1"
CLOAK = re.compile(r"[a-z2-7]{16}\.hubbub")
OPERS: dict[str, object] = {"opers": [{"name": "admin", "password": "secret"}]}


def leaks(lines: list[Message]) -> list[Message]:
    """The lines whose source or parameters show the real address."""
    return [m for m in lines if IP in (m.source or "") or any(IP in p for p in m.params)]


async def joined(client: RawClient, channel: str) -> None:
    await client.send(f"JOIN {channel}")
    await client.expect("366")
    await client.sync()


# --- over sockets --------------------------------------------------------------------


async def test_others_never_see_the_address(start_server: ServerFactory) -> None:
    irc = await start_server()
    bob = await irc.client("bob", caps=["userhost-in-names", "extended-join"])
    await joined(bob, "#c")
    alice = await irc.client("alice")
    await alice.send("MODE alice +i")  # invisible users were shown too
    await alice.send("JOIN #c")
    await alice.send("PRIVMSG #c :hello")
    await alice.send("PRIVMSG bob :psst")
    await alice.sync()
    seen = await bob.sync()
    for line in (
        "WHOIS alice",
        "WHO alice",
        "WHO #c",
        "WHO alice %tcuihsnfar,42",
        "WHO *",
        "USERHOST alice",
        "NAMES #c",
    ):
        seen += await bob.ask(line)
    await alice.send("NICK alice2")
    await alice.send("QUIT :bye")
    await bob.expect("QUIT")
    seen += await bob.ask("WHOWAS alice")
    seen += await bob.ask("WHOWAS alice2")
    assert leaks(seen) == []
    # ... and what bob does see is the cloak, in prefixes and replies alike.
    privmsg = next(m for m in seen if m.command == "PRIVMSG")
    assert privmsg.source is not None and CLOAK.fullmatch(privmsg.source.split("@")[1])
    whois_user = next(m for m in seen if m.command == "311")
    assert CLOAK.fullmatch(whois_user.params[3])
    whox = next(m for m in seen if m.command == "354")
    assert whox.params[4] == "255.255.255.255" and CLOAK.fullmatch(whox.params[5])
    assert not [m for m in seen if m.command in ("338", "378")]


async def test_non_operators_cannot_search_by_address(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    await irc.client("alice")
    bob = await irc.client("bob")
    found = [m.params[5] for m in await bob.ask("WHO 127.0.0.*") if m.command == "352"]
    assert found == ["bob"]  # themself only
    await bob.send("OPER admin secret")
    await bob.expect("381")
    found = [m.params[5] for m in await bob.ask("WHO 127.0.0.*") if m.command == "352"]
    assert sorted(found) == ["alice", "bob"]


async def test_operator_and_user_themself_see_the_address(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    alice = await irc.client()
    await alice.send("NICK alice")
    await alice.send("USER alice 0 * :Alice")
    burst = await alice.collect_until("376")
    (visible,) = [m for m in burst if m.command == "396"]
    assert visible.params[0] == "alice" and CLOAK.fullmatch(visible.params[1])
    assert visible.params[1] in burst[0].params[1]  # 001 names the cloaked host
    own = {m.command: m.params for m in await alice.ask("WHOIS alice")}
    assert own["338"][:3] == ["alice", "alice", IP]
    assert own["311"][3] == visible.params[1]
    admin = await irc.client("admin")
    await admin.send("OPER admin secret")
    await admin.expect("381")
    seen = {m.command: m.params for m in await admin.ask("WHOIS alice")}
    assert seen["338"][:3] == ["admin", "alice", IP]
    assert IP in seen["378"][2]


async def test_cloak_is_stable_across_reconnects_and_restarts(tmp_path: Path) -> None:
    async def host_seen(server: Server, nick: str) -> str:
        port = next(x.port for x in server.listeners if x.kind == "plaintext")
        client = await RawClient.connect(IP, port)
        await client.register(nick)
        (reply,) = [m for m in await client.ask(f"WHOIS {nick}") if m.command == "311"]
        await client.close()
        return reply.params[3]

    data = tmp_path / "data"
    first = Server(make_config(data))
    await first.start()
    try:
        host = await host_seen(first, "alice")
        assert CLOAK.fullmatch(host)
        assert await host_seen(first, "bob") == host  # one address, one cloak
    finally:
        await first.stop()
    mode = stat.S_IMODE(os.stat(data / SECRET_FILE).st_mode)
    assert mode == 0o600
    again = Server(make_config(data))
    await again.start()
    try:
        assert await host_seen(again, "alice") == host
    finally:
        await again.stop()
    other = Server(make_config(tmp_path / "elsewhere"))  # another network's key
    await other.start()
    try:
        assert await host_seen(other, "alice") != host
    finally:
        await other.stop()


async def test_cloak_off_shows_the_address(start_server: ServerFactory) -> None:
    irc = await start_server(server={"cloak": False})
    alice = await irc.client("alice")
    bob = await irc.client("bob")
    (reply,) = [m for m in await bob.ask("WHOIS alice") if m.command == "311"]
    assert reply.params[3] == IP
    assert "396" not in [m.command for m in alice.log]


async def test_cloak_suffix_is_configurable(start_server: ServerFactory) -> None:
    irc = await start_server(server={"cloak_suffix": "users.example"})
    alice = await irc.client("alice")
    (reply,) = [m for m in await alice.ask("WHOIS alice") if m.command == "311"]
    assert re.fullmatch(r"[a-z2-7]{16}\.users\.example", reply.params[3])


async def test_channel_bans_see_the_cloak_not_the_address(irc: RunningServer) -> None:
    op = await irc.client("op")
    await joined(op, "#c")
    await op.ask("MODE #c +b *!*@127.0.0.1")
    bob = await irc.client("bob")
    # A ban on the hidden address does not match: it would let any channel
    # operator probe a user's IP with bans.
    assert (await bob.ask("JOIN #c"))[0].command == "JOIN"
    await bob.ask("PART #c")
    (whois,) = [m for m in await op.ask("WHOIS bob") if m.command == "311"]
    await op.ask(f"MODE #c +b *!*@{whois.params[3]}")
    assert [m.command for m in await bob.ask("JOIN #c")] == ["474"]


async def test_kline_on_the_real_address_still_applies(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    admin = await irc.client("admin")
    await admin.send("OPER admin secret")
    await admin.expect("381")
    await admin.ask("KLINE 1h *@127.0.0.1 :no")
    victim = await irc.client()
    await victim.send("NICK victim")
    await victim.send("USER victim 0 * :victim")
    assert await victim.closed()


# --- the key and the hash ------------------------------------------------------------


def test_key_is_made_once_with_mode_0600_and_then_read(tmp_path: Path) -> None:
    key = load_or_create_secret(tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 32
    assert load_or_create_secret(tmp_path) == key


def test_unusable_key_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("not hex at all\n")
    with pytest.raises(CloakKeyError, match=r"cloak\.key"):
        load_or_create_secret(tmp_path)
    (tmp_path / SECRET_FILE).write_text("abcd\n")
    with pytest.raises(ConfigError, match="shorter"):
        load_or_create_secret(tmp_path)


def test_cloak_depends_on_key_and_address_only() -> None:
    key = bytes(range(32))
    host = cloak_host(key, "192.0.2.1", "hubbub")
    assert CLOAK.fullmatch(host)
    assert cloak_host(key, "192.0.2.1", "hubbub") == host
    assert cloak_host(key, "::ffff:192.0.2.1", "hubbub") == host
    assert cloak_host(key, "192.0.2.2", "hubbub") != host
    assert cloak_host(bytes(32), "192.0.2.1", "hubbub") != host
    assert cloak_host(key, "2001:db8::1", "x.y").endswith(".x.y")
    assert cloak_host(key, "2001:DB8:0::1", "x.y") == cloak_host(key, "2001:db8::1", "x.y")


@pytest.mark.parametrize("suffix", ["", "a..b", "has space", "bad_char", ".lead"])
def test_bad_cloak_suffix_is_refused(suffix: str) -> None:
    with pytest.raises(ConfigError, match=r"server\.cloak_suffix"):
        parse_config({"server": {"cloak_suffix": suffix}})
