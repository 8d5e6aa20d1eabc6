"""``hubbub serve --log-format json`` as operators run it: every line on stderr
is one JSON object; the events carry connection id, address, nick and
reason; and no password or message text sent during the run appears in the
logs, even at debug level."""

from __future__ import annotations

import asyncio
import base64
import json
import signal
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher, profiles

from harness import HOST, free_port, hubbub_command, join_all
from ircclient import RawClient
from server.metrics_helpers import http_get

# Everything secret or private the clients send; none may reach a log.
OPER_PASSWORD = "oper-pass-Quokka-1"
WRONG_OPER_PASSWORD = "wrong-oper-Wombat-2"
ACCOUNT_PASSWORD = "account-pass-Numbat-3"
WRONG_SASL_PASSWORD = "wrong-sasl-Bilby-4"
CHANNEL_TEXT = "channel text Platypus-5"
PRIVATE_TEXT = "private text Echidna-6"
NOTICE_TEXT = "notice text Dingo-7"
QUIT_TEXT = "quit text Wallaby-8"
SECRETS = [
    OPER_PASSWORD,
    WRONG_OPER_PASSWORD,
    ACCOUNT_PASSWORD,
    WRONG_SASL_PASSWORD,
    CHANNEL_TEXT,
    PRIVATE_TEXT,
    NOTICE_TEXT,
    QUIT_TEXT,
    base64.b64encode(f"alice\0alice\0{WRONG_SASL_PASSWORD}".encode()).decode(),
    # the distinctive word of each, in case a text is logged cut or re-quoted
    *("Quokka", "Wombat", "Numbat", "Bilby", "Platypus", "Echidna", "Dingo", "Wallaby"),
]


def write_config(directory: Path, irc_port: int, metrics_port: int) -> Path:
    oper_hash = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(OPER_PASSWORD)
    config = directory / "hubbub.toml"
    config.write_text(
        f"""
[server]
data_dir = "data"

[[listen]]
host = "{HOST}"
port = {irc_port}

[accounts]
scram_iterations = 4096

[metrics]
listen = "{HOST}:{metrics_port}"

[[opers]]
name = "admin"
password = "{oper_hash}"
"""
    )
    return config


async def wait_listening(port: int, proc: subprocess.Popen[bytes], stderr: Path) -> None:
    for _ in range(400):
        assert proc.poll() is None, stderr.read_text()
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        return
    raise TimeoutError(stderr.read_text())


async def client(port: int, nick: str, caps: list[str] | None = None) -> RawClient:
    raw = await RawClient.connect(HOST, port)
    await raw.register(nick, caps)
    return raw


async def exercise(port: int, metrics_port: int, database: Path) -> None:
    """Connect, register an account, fail a SASL login, chat, OPER (right
    and wrong), K-line, KILL, QUIT with a text, and a store that cannot write."""
    alice = await client(port, "alice")
    reply = await alice.ask(f"REGISTER * * :{ACCOUNT_PASSWORD}")
    assert any(m.command == "REGISTER" and m.params[0] == "SUCCESS" for m in reply), reply
    bob = await client(port, "bob")
    await join_all("#room", alice, bob)

    guest = await RawClient.connect(HOST, port)
    await guest.send("CAP REQ :sasl")
    await guest.expect("CAP")
    await guest.send("AUTHENTICATE PLAIN")
    await guest.expect("AUTHENTICATE")
    token = base64.b64encode(f"alice\0alice\0{WRONG_SASL_PASSWORD}".encode()).decode()
    await guest.send(f"AUTHENTICATE {token}")
    await guest.expect("904")
    await guest.send(f"PRIVMSG NickServ :IDENTIFY alice {WRONG_SASL_PASSWORD}")

    await alice.send(f"PRIVMSG #room :{CHANNEL_TEXT}")
    await alice.send(f"PRIVMSG bob :{PRIVATE_TEXT}")
    await alice.send(f"NOTICE #room :{NOTICE_TEXT}")
    await alice.sync()

    boss = await client(port, "boss")
    assert "464" in [m.command for m in await boss.ask(f"OPER admin {WRONG_OPER_PASSWORD}")]
    assert "381" in [m.command for m in await boss.ask(f"OPER admin {OPER_PASSWORD}")]
    await boss.ask("KLINE 1h *@10.9.8.7 :spam run")
    await boss.ask("KILL bob :being bob")

    await alice.send(f"QUIT :{QUIT_TEXT}")
    assert await alice.closed()

    lock = sqlite3.connect(database, timeout=5, isolation_level=None)
    lock.execute("BEGIN EXCLUSIVE")
    try:
        assert (await http_get(metrics_port, "/healthz")).status == 503
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    assert (await http_get(metrics_port, "/healthz")).status == 200
    for raw in (guest, boss):
        await raw.close()


def events(records: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [r for r in records if r["event"] == name]


async def test_json_logs_parse_and_keep_secrets(tmp_path: Path) -> None:
    port, metrics_port = free_port(), free_port()
    config = write_config(tmp_path, port, metrics_port)
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    command = [*hubbub_command(), "serve", "--config", str(config)]
    command += ["--log-format", "json", "--log-level", "debug"]
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=tmp_path)
    try:
        await wait_listening(port, proc, stderr)
        await exercise(port, metrics_port, tmp_path / "data" / "hubbub.db")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0

    text = stderr.read_text()
    everything = text + stdout.read_text()
    for secret in SECRETS:
        assert secret not in everything, f"{secret!r} was logged"

    lines = text.splitlines()
    assert lines
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    for record in records:
        assert {"ts", "level", "logger", "event", "message"} <= record.keys(), record
        assert record["ts"].endswith("Z")
        assert record["level"] in ("debug", "info", "warning", "error")

    connects = events(records, "connect")
    assert len(connects) == 5  # the readiness probe, alice, bob, guest, boss
    assert all(r["addr"] == HOST and isinstance(r["conn"], int) for r in connects)
    assert {r["nick"] for r in events(records, "register")} == {"alice", "bob", "boss"}
    [alice_quit] = [r for r in events(records, "quit") if r["nick"] == "alice"]
    assert alice_quit["reason"] == "Quit"
    [bob_quit] = [r for r in events(records, "quit") if r["nick"] == "bob"]
    assert bob_quit["reason"] == "Killed (boss (being bob))"
    [account] = events(records, "account_registered")
    assert account["account"] == "alice" and account["nick"] == "alice"
    [failed] = events(records, "oper_failed")
    assert failed["nick"] == "boss" and failed["reason"] == "wrong password"
    [oper] = events(records, "oper_up")
    assert oper["oper"] == "admin" and oper["conn"] == failed["conn"]
    [ban] = events(records, "ban_added")
    assert ban["kind"] == "K-line" and ban["mask"] == "*@10.9.8.7" and ban["reason"] == "spam run"
    [kill] = events(records, "kill")
    assert kill["target"] == "bob" and kill["nick"] == "boss"
    store = events(records, "store_health")
    assert [r["level"] for r in store] == ["error", "info"]
    assert store[0]["message"].startswith("store health: not writable")
