"""OPER, KILL, WALLOPS, REHASH, DIE: in-process and against `hubbub serve`."""

from __future__ import annotations

import asyncio
from pathlib import Path

from argon2 import PasswordHasher

from harness import ServeProcess, ServerFactory, oper_up
from hubbub.protocol.message import Message
from hubbub.server.app import Server
from hubbub.server.config import load_config
from ircclient import RawClient

SERVER = "irc.test.local"
HOST = "127.0.0.1"
# Cheap parameters keep the tests fast; verify() reads them from the hash.
HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("s3cret")


def commands(messages: list[Message]) -> list[str]:
    return [m.command for m in messages]


OPERS: dict[str, object] = {
    "opers": [
        {"name": "admin", "password": HASH},
        {"name": "plain", "password": "letmein"},
        {"name": "remote", "password": "letmein", "host": "*@10.*"},
    ]
}


# --- OPER ----------------------------------------------------------------------


async def test_oper_with_argon2_hash(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    alice = await irc.client("alice")
    replies = await alice.ask("OPER admin s3cret")
    assert [(m.source, m.command, m.params) for m in replies] == [
        ("alice", "MODE", ["alice", "+o"]),
        (SERVER, "381", ["alice", "You are now an IRC operator"]),
    ]
    user = irc.server.world.find_user("alice")
    assert user is not None and user.is_oper and user.oper_name == "admin"
    bob = await irc.client("bob")
    assert "313" in commands(await bob.ask("WHOIS alice"))


async def test_oper_plain_text_password(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    alice = await irc.client("alice")
    assert commands(await alice.ask("OPER plain letmein")) == ["MODE", "381"]


async def test_oper_failures(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    alice = await irc.client("alice")
    replies = await alice.ask("OPER admin wrong")
    assert [(m.command, m.params) for m in replies] == [("464", ["alice", "Password incorrect"])]
    replies = await alice.ask("OPER nobody s3cret")
    assert [(m.command, m.params[:1]) for m in replies] == [("491", ["alice"])]
    # right password, but this block only admits 10.* hosts
    replies = await alice.ask("OPER remote letmein")
    assert [(m.command, m.params[:1]) for m in replies] == [("491", ["alice"])]
    assert commands(await alice.ask("OPER admin")) == ["461"]
    user = irc.server.world.find_user("alice")
    assert user is not None and not user.is_oper


# --- KILL ----------------------------------------------------------------------


async def test_kill(start_server: ServerFactory) -> None:
    irc = await start_server(server={"cloak": False}, **OPERS)  # asserts the real host
    op = await irc.client("op")
    victim = await irc.client("victim")
    friend = await irc.client("friend")
    await victim.ask("JOIN #chan")
    await friend.ask("JOIN #chan")
    await victim.sync()
    # only operators may kill
    replies = await friend.ask("KILL victim :go away")
    assert [(m.command, m.params[:1]) for m in replies] == [("481", ["friend"])]
    await oper_up(op, "plain")
    assert [(m.command, m.params[:2]) for m in await op.ask("KILL ghost :x")] == [
        ("401", ["op", "ghost"])
    ]
    assert commands(await op.ask(f"KILL {SERVER} :x")) == ["483"]
    await op.send("KILL victim :some reason")
    text = "Killed (op (some reason))"
    msg = await friend.expect("QUIT")
    assert msg.source == f"victim!~victim@{HOST}" and msg.params == [text]
    kill = await victim.expect("KILL")
    assert kill.source is not None and kill.source.startswith("op!")
    assert kill.params == ["victim", text]
    error = await victim.expect("ERROR")
    assert error.params == [f"Closing Link: {HOST} ({text})"]
    assert await victim.closed()
    assert irc.server.world.find_user("victim") is None
    # one-argument KILL works too
    other = await irc.client("other")
    await op.send("KILL other")
    assert await other.closed()


# --- WALLOPS -------------------------------------------------------------------


async def test_wallops(start_server: ServerFactory) -> None:
    irc = await start_server(server={"cloak": False}, **OPERS)  # asserts the real host
    op = await irc.client("op")
    reader = await irc.client("reader")
    deaf = await irc.client("deaf")
    assert commands(await reader.ask("WALLOPS :hi")) == ["481"]
    await reader.ask("MODE reader +w")
    await oper_up(op, "plain")
    replies = await op.ask("WALLOPS :maintenance at noon")
    assert [(m.source, m.command, m.params) for m in replies] == [
        (f"op!~op@{HOST}", "WALLOPS", ["maintenance at noon"])
    ]
    msg = await reader.expect("WALLOPS")
    assert msg.source == f"op!~op@{HOST}" and msg.params == ["maintenance at noon"]
    assert await deaf.sync() == []


# --- REHASH --------------------------------------------------------------------


def write_config(path: Path, data_dir: Path, motd: str, opers: bool = True) -> None:
    oper_block = '[[opers]]\nname = "admin"\npassword = "letmein"\n' if opers else ""
    path.write_text(
        "[server]\n"
        f'name = "{SERVER}"\n'
        f'data_dir = "{data_dir}"\n'
        f'motd = "{motd}"\n'
        "[[listen]]\n"
        'host = "127.0.0.1"\n'
        "port = 0\n"
        "[limits]\n"
        "flood_control = false\n"
        "throttle = false\n" + oper_block
    )


async def test_rehash_reloads_motd_and_keeps_config_on_error(tmp_path: Path) -> None:
    path = tmp_path / "hubbub.toml"
    write_config(path, tmp_path / "data", "old motd")
    server = Server(load_config(path))
    await server.start()
    client: RawClient | None = None
    try:
        port = next(x.port for x in server.listeners if x.kind == "plaintext")
        client = await RawClient.connect(HOST, port)
        await client.register("admin")
        assert commands(await client.ask("REHASH")) == ["481"]
        await oper_up(client)
        write_config(path, tmp_path / "data", "new motd")
        replies = await client.ask("REHASH")
        assert [(m.command, m.params) for m in replies] == [
            ("382", ["admin", str(path.resolve()), "Rehashing"])
        ]
        motd = await client.ask("MOTD")
        assert [m.params[1] for m in motd if m.command == "372"] == ["- new motd"]
        # a broken file: FAIL naming the problem, the running config is kept
        path.write_text("[server\nname = 1")
        replies = await client.ask("REHASH")
        assert [(m.command, m.params[:2]) for m in replies] == [
            ("FAIL", ["REHASH", "CONFIG_ERROR"])
        ]
        assert "TOML syntax error" in replies[0].params[-1]
        motd = await client.ask("MOTD")
        assert [m.params[1] for m in motd if m.command == "372"] == ["- new motd"]
    finally:
        if client is not None:
            await client.close()
        await server.stop()


async def test_rehash_without_config_file(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    op = await irc.client("op")
    await oper_up(op, "plain")
    replies = await op.ask("REHASH")
    assert [(m.command, m.params[:2]) for m in replies] == [("FAIL", ["REHASH", "CONFIG_ERROR"])]


# --- DIE -----------------------------------------------------------------------


async def test_die_stops_the_server(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    op = await irc.client("op")
    bystander = await irc.client("bystander")
    assert commands(await bystander.ask("DIE")) == ["481"]
    await oper_up(op, "plain")
    await op.send("DIE :upgrade")
    for client in (op, bystander):
        error = await client.expect("ERROR")
        assert "upgrade" in error.params[0]
        assert await client.closed()
    await asyncio.wait_for(irc.server.stopped.wait(), 5)


async def test_die_makes_hubbub_serve_exit_0(tmp_path: Path) -> None:
    config = tmp_path / "hubbub.toml"
    config.write_text(f'[[opers]]\nname = "admin"\npassword = "{HASH}"\n')
    serve = ServeProcess.on_free_ports(tmp_path, "--config", str(config), "--no-uvloop")
    async with serve:
        client = await serve.client("admin")
        await oper_up(client, "admin", "s3cret")
        await client.send("DIE :tests done")
        code = await serve.exit_after_error(client, "Server shutting down: tests done")
    assert code == 0, serve.output
    assert "hubbub stopped." in serve.output


async def test_lusers_counts_follow_modes_opers_and_quits(start_server: ServerFactory) -> None:
    """The counts are kept as users change, not recounted: check they stay true."""
    irc = await start_server(**OPERS)

    async def lusers(client: RawClient) -> dict[str, list[str]]:
        return {m.command: m.params for m in await client.ask("LUSERS")}

    alice = await irc.client("alice")
    bob = await irc.client("bob")
    half = await irc.client()  # connected, never registers
    await half.send("NICK halfway")
    await alice.ask("MODE alice +i")
    await oper_up(bob, "plain")
    counts = await lusers(alice)
    assert counts["251"][1] == "There are 1 users and 1 invisible on 1 servers"
    assert counts["252"][1] == "1"
    assert counts["253"][1] == "1"
    assert counts["255"][1] == "I have 2 clients and 0 servers"
    await alice.ask("MODE alice -i")
    await bob.ask("MODE bob -o")
    await half.close()
    carol = await irc.client("carol")
    await carol.ask("MODE carol +i")
    await carol.send("QUIT :bye")
    assert await carol.closed()
    counts = await lusers(alice)
    assert counts["251"][1] == "There are 2 users and 0 invisible on 1 servers"
    assert counts["252"][1] == "0"
    assert counts["253"][1] == "0"
    assert counts["265"][1:3] == ["2", "3"]
