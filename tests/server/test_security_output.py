"""Issue 12, low items: every line we send fits 512 bytes (tags apart) and
holds no bare CR or LF; numbers in other scripts' digits are bad input,
never a traceback."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest

from harness import RunningServer, ServerFactory
from hubbub.protocol.message import parse
from hubbub.server.commands.serverbans import parse_ban_duration
from ircclient import RawClient

# --- reading raw bytes ---------------------------------------------------------------


async def raw_lines_until_pong(client: RawClient, token: str) -> list[bytes]:
    """Every raw line up to our PONG, after a PING barrier."""
    await client.send(f"PING :{token}")
    lines: list[bytes] = []
    while True:
        raw = await asyncio.wait_for(client.reader.readline(), 5)
        assert raw, "connection closed"
        lines.append(raw)
        message = parse(raw.decode("utf-8", "replace").rstrip("\r\n"))
        if message.command == "PONG" and message.params[-1] == token:
            return lines


def body_of(raw: bytes) -> bytes:
    """The line without its tags, CR LF included."""
    return raw.split(b" ", 1)[1] if raw.startswith(b"@") else raw


def assert_well_framed(lines: list[bytes]) -> None:
    for raw in lines:
        assert raw.endswith(b"\r\n") and b"\r" not in raw[:-2] and b"\n" not in raw[:-2], raw
        assert len(body_of(raw)) <= 512, (len(body_of(raw)), raw)
        raw.decode("utf-8")  # no character was cut in half


# --- the label tag --------------------------------------------------------------------


async def test_label_with_escaped_line_break_is_echoed_escaped(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["labeled-response", "batch"])
    # The tag value's escaped form: a\nQUIT\r\n after unescaping.
    await alice.send_raw(b"@label=a\\nQUIT\\r\\n PING :labelled\r\n")
    lines = await raw_lines_until_pong(alice, "barrier")
    assert_well_framed(lines)
    labelled = parse(lines[0].decode().rstrip("\r\n"))
    assert labelled.command == "PONG" and labelled.tags["label"] == "a\nQUIT\r\n"
    assert lines[0].startswith(b"@label=a\\nQUIT\\r\\n ")


async def test_label_on_a_batch_and_on_ack_is_escaped(irc: RunningServer) -> None:
    alice = await irc.client("alice", caps=["labeled-response", "batch"])
    await irc.client("bob")
    await alice.send_raw(b"@label=x\\ny\\sz NAMES\r\n")  # several lines: a batch
    await alice.send_raw(b"@label=p\\nq PRIVMSG bob :hi\r\n")  # no output: ACK
    lines = await raw_lines_until_pong(alice, "barrier")
    assert_well_framed(lines)
    labels = [parse(x.decode().rstrip("\r\n")).tags.get("label") for x in lines]
    assert "x\ny z" in labels and "p\nq" in labels


# --- 512 bytes ---------------------------------------------------------------------------


async def _long_named(irc: RunningServer, nick: str, caps: list[str]) -> RawClient:
    client = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(client)
    if caps:
        await client.send("CAP LS 302")
        await client.send("CAP REQ :" + " ".join(caps))
    await client.send(f"NICK {nick}")
    await client.send(f"USER {'u' * 18} 0 * :long")
    if caps:
        await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
        await client.send("CAP END")
    await client.expect("376")
    return client


def _fill(prefix: str, char: str) -> str:
    """``prefix`` plus ``char`` repeated so the line is the full 510 bytes."""
    room = 510 - len(prefix.encode())
    text = char * (room // len(char.encode()))
    return text + "x" * (room - len(text.encode()))


@pytest.mark.parametrize("char", ["a", "é", "€", "😀"])
async def test_relayed_messages_fit_512_bytes_and_keep_whole_characters(
    irc: RunningServer, char: str
) -> None:
    sender_nick = "s" * 30
    sender = await _long_named(irc, sender_nick, ["echo-message"])
    reader = await _long_named(irc, "r" * 30, ["message-tags", "server-time"])
    for client in (sender, reader):
        await client.send("JOIN #" + "c" * 40)
        await client.expect("366")
    await raw_lines_until_pong(reader, "joined")
    channel = "#" + "c" * 40
    sent = {
        "PRIVMSG-chan": _fill(f"PRIVMSG {channel} :", char),
        "NOTICE-chan": _fill(f"NOTICE {channel} :", char),
        "PRIVMSG-nick": _fill(f"PRIVMSG {'r' * 30} :", char),
    }
    await sender.send(f"PRIVMSG {channel} :{sent['PRIVMSG-chan']}")
    await sender.send(f"NOTICE {channel} :{sent['NOTICE-chan']}")
    await sender.send(f"PRIVMSG {'r' * 30} :{sent['PRIVMSG-nick']}")
    got = await raw_lines_until_pong(reader, "relayed")
    echoed = await raw_lines_until_pong(sender, "echoed")
    assert_well_framed(got)
    assert_well_framed(echoed)
    texts = _texts(got)
    assert len(texts) == 3
    for text, original in zip(texts, sent.values(), strict=True):
        assert original.startswith(text) and len(text) < len(original)
    assert _texts(echoed) == texts


def _texts(lines: list[bytes]) -> list[str]:
    messages = [parse(x.decode().rstrip("\r\n")) for x in lines]
    return [m.params[1] for m in messages if m.command in ("PRIVMSG", "NOTICE")]


async def test_long_part_quit_and_kill_lines_fit(start_server: ServerFactory) -> None:
    irc = await start_server(opers=[{"name": "admin", "password": "letmein"}])
    leaver = await _long_named(irc, "l" * 30, [])
    watcher = await _long_named(irc, "w" * 30, [])
    for client in (leaver, watcher):
        await client.send("JOIN #c")
        await client.expect("366")
    await raw_lines_until_pong(watcher, "joined")
    await leaver.send("PART #c :" + _fill("PART #c :", "ü"))
    await leaver.send("JOIN #c")
    await leaver.send("QUIT :" + _fill("QUIT :", "ü"))
    lines = await raw_lines_until_pong(watcher, "left")
    assert_well_framed(lines)
    commands = [parse(x.decode().rstrip("\r\n")).command for x in lines[:-1]]
    assert commands == ["PART", "JOIN", "QUIT"]
    victim = await _long_named(irc, "v" * 30, [])
    await watcher.ask("OPER admin letmein")
    await watcher.send(f"KILL {'v' * 30} :" + _fill(f"KILL {'v' * 30} :", "x"))
    tail = []
    while raw := await asyncio.wait_for(victim.reader.readline(), 5):
        tail.append(raw)
    assert_well_framed(tail)
    assert parse(tail[-1].decode().rstrip("\r\n")).command == "ERROR"


# --- Unicode digits -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("CAP LS ²", [("CAP", "LS")]),
        ("CAP LS \uff13\uff10\uff12", [("CAP", "LS")]),
        ("MODE #c +l ²", [("696", "#c")]),
        ("MODE #c +l ٣", [("696", "#c")]),
        ("CHATHISTORY LATEST #c * ²", [("FAIL", "INVALID_PARAMS")]),
        ("LIST >²", [("321", "Channel"), ("323", "End of /LIST")]),
        ("LIST C<²", [("321", "Channel"), ("323", "End of /LIST")]),
        ("WHOWAS ghost ²", [("406", "ghost"), ("369", "ghost")]),
    ],
)
async def test_unicode_digits_get_a_reply_not_a_traceback(
    irc: RunningServer, caplog: pytest.LogCaptureFixture, line: str, expected: list[tuple[str, str]]
) -> None:
    alice = await irc.client("alice", caps=["draft/chathistory", "batch", "server-time"])
    await alice.ask("JOIN #c")
    with caplog.at_level(logging.ERROR, logger="hubbub"):
        replies = await alice.ask(line)
    # A long CAP LS reply comes as several CAP LS lines: each counts once here.
    assert list(dict.fromkeys((m.command, m.params[1]) for m in replies)) == expected
    assert not [r for r in caplog.records if r.exc_info]
    # Still usable.
    assert [m.command for m in await alice.ask("MODE alice")] == ["221"]


def test_ban_durations_take_ascii_digits_only() -> None:
    assert parse_ban_duration("3m") == timedelta(minutes=3)
    for text in ("٣m", "²", "\uff13"):
        with pytest.raises(ValueError):
            parse_ban_duration(text)
