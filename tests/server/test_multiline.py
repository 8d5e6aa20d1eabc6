"""draft/multiline over real sockets, from the spec: the batch to clients
with the cap, the fallback lines to the others, labels with echo-message,
the limits of the cap value and their FAIL codes, and history keeping the
batch as one message replayed as a batch."""

from __future__ import annotations

from typing import Any

import pytest

from harness import join_all
from hubbub.protocol.message import Message
from ircclient import RawClient

BASE = ["message-tags", "batch", "echo-message", "server-time", "labeled-response"]
MULTI = [*BASE, "draft/multiline"]
CONCAT = "draft/multiline-concat"


async def send_batch(client: RawClient, target: str, lines: list[str], opener: str = "") -> None:
    await client.send(f"{opener}BATCH +b1 draft/multiline {target}")
    for line in lines:
        await client.send(line)
    await client.send("BATCH -b1")


def fails(lines: list[Message]) -> list[list[str]]:
    return [m.params[:-1] for m in lines if m.command == "FAIL"]


async def three(irc: Any, channel: str = "#m") -> tuple[RawClient, RawClient, RawClient]:
    alice = await irc.client("alice", MULTI)
    bob = await irc.client("bob", MULTI)
    carol = await irc.client("carol", BASE)
    await join_all(channel, alice, bob, carol)
    for client in (alice, bob, carol):
        await client.sync()
    return alice, bob, carol


async def test_batch_echo_relay_and_fallback(irc: Any) -> None:
    alice, bob, carol = await three(irc)
    await send_batch(
        alice,
        "#m",
        [
            "@batch=b1 PRIVMSG #m hello",
            "@batch=b1 PRIVMSG #m :",
            "@batch=b1 PRIVMSG #m :how is ",
            f"@batch=b1;{CONCAT} PRIVMSG #m :everyone?",
        ],
        opener="@label=L1;+draft/reply=abc ",
    )
    echo = await alice.sync()
    assert echo[0].command == "BATCH" and echo[0].params[1:] == ["draft/multiline", "#m"]
    assert echo[0].tags["label"] == "L1" and "label" not in echo[-1].tags
    assert echo[-1].params == ["-" + echo[0].params[0][1:]]
    msgid, when = echo[0].tags["msgid"], echo[0].tags["time"]

    relay = await bob.sync()
    start, inner, end = relay[0], relay[1:-1], relay[-1]
    ref = start.params[0][1:]
    assert (start.tags["msgid"], start.tags["time"]) == (msgid, when)
    assert start.tags["+draft/reply"] == "abc" and "label" not in start.tags
    assert [m.params for m in inner] == [
        ["#m", "hello"],
        ["#m", ""],
        ["#m", "how is "],
        ["#m", "everyone?"],
    ]
    assert all(m.tags.get("batch") == ref and "msgid" not in m.tags for m in inner)
    assert [CONCAT in m.tags for m in inner] == [False, False, False, True]
    assert end.params == ["-" + ref]

    fallback = await carol.sync()
    assert [m.params for m in fallback] == [["#m", "hello"], ["#m", "how is "], ["#m", "everyone?"]]
    assert [m.tags.get("msgid") for m in fallback] == [msgid, None, None]
    assert {m.tags["time"] for m in fallback} == {when}
    assert all(m.tags["+draft/reply"] == "abc" and CONCAT not in m.tags for m in fallback)


async def test_without_echo_the_label_gets_an_ack(irc: Any) -> None:
    alice = await irc.client(
        "alice", ["message-tags", "batch", "labeled-response", "draft/multiline"]
    )
    bob = await irc.client("bob", BASE)
    await join_all("#m", alice, bob)
    await bob.sync()
    await send_batch(
        alice, "#m", ["@batch=b1 PRIVMSG #m :a", "@batch=b1 PRIVMSG #m :b"], "@label=x "
    )
    lines = await alice.sync()
    assert [(m.command, m.tags.get("label")) for m in lines] == [("ACK", "x")]
    assert [m.params for m in await bob.sync()] == [["#m", "a"], ["#m", "b"]]


async def test_private_multiline_and_plain_clients(irc: Any) -> None:
    alice = await irc.client("alice", MULTI)
    dave = await irc.client("dave")
    await send_batch(alice, "dave", ["@batch=b1 PRIVMSG dave :one", "@batch=b1 PRIVMSG dave :two"])
    assert [(m.command, m.params) for m in await dave.sync()] == [
        ("PRIVMSG", ["dave", "one"]),
        ("PRIVMSG", ["dave", "two"]),
    ]
    echo = await alice.sync()
    assert [m.command for m in echo] == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]


async def test_cap_value_advertises_the_limits(start_server: Any) -> None:
    irc = await start_server(limits={"multiline_max_bytes": 1000, "multiline_max_lines": 5})
    client = await irc.client()
    lines = await client.ask("CAP LS 302")
    caps = " ".join(m.params[-1] for m in lines if m.command == "CAP")
    assert "draft/multiline=max-bytes=1000,max-lines=5" in caps.split()
    assert {"draft/message-redaction", "draft/event-playback"} <= set(caps.split())


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        (["@batch=zz PRIVMSG #m :hi"], ["BATCH", "MULTILINE_INVALID"]),
        (
            ["@batch=b1 PRIVMSG #m :hi", f"@batch=b1;{CONCAT} PRIVMSG #m :"],
            ["BATCH", "MULTILINE_INVALID"],
        ),
        (["@batch=b1 PRIVMSG #other :hi"], ["BATCH", "MULTILINE_INVALID_TARGET", "#m", "#other"]),
        (["@batch=b1 PRIVMSG #m :", "@batch=b1 PRIVMSG #m :"], ["BATCH", "MULTILINE_INVALID"]),
        (["@batch=b1 PRIVMSG #m :hi"] * 6, ["BATCH", "MULTILINE_MAX_LINES", "5"]),
        (["@batch=b1 PRIVMSG #m :" + "x" * 300] * 4, ["BATCH", "MULTILINE_MAX_BYTES", "1000"]),
    ],
)
async def test_invalid_batches_fail_once_and_deliver_nothing(
    start_server: Any, lines: list[str], code: list[str]
) -> None:
    irc = await start_server(limits={"multiline_max_bytes": 1000, "multiline_max_lines": 5})
    alice, bob, carol = await three(irc)
    await send_batch(alice, "#m", lines)
    assert fails(await alice.sync()) == [code]
    await bob.nothing()
    await carol.nothing()


async def test_history_keeps_one_message_and_replays_it(irc: Any) -> None:
    caps = [*MULTI, "draft/chathistory"]
    alice = await irc.client("alice", caps)
    plain = await irc.client("plain", [*BASE, "draft/chathistory"])
    await join_all("#h", alice, plain)
    await plain.sync()
    await send_batch(
        alice,
        "#h",
        [
            "@batch=b1 PRIVMSG #h :first",
            "@batch=b1 PRIVMSG #h :",
            f"@batch=b1;{CONCAT} PRIVMSG #h :x",
        ],
    )
    echo = await alice.sync()
    msgid = echo[0].tags["msgid"]
    await plain.sync()
    record = await irc.server.store.history.find(msgid)
    assert record is not None and record.text == "first\nx"  # the concat joins "" and "x"

    got = await alice.ask("CHATHISTORY LATEST #h * 10")
    outer = got[0].params[0][1:]
    inner = got[1:-1]
    assert inner[0].command == "BATCH" and inner[0].params[1:] == ["draft/multiline", "#h"]
    assert inner[0].tags["batch"] == outer and inner[0].tags["msgid"] == msgid
    assert [m.params for m in inner[1:-1]] == [["#h", "first"], ["#h", ""], ["#h", "x"]]
    assert inner[-1].tags["batch"] == outer

    got = await plain.ask("CHATHISTORY LATEST #h * 10")
    assert [(m.params, m.tags.get("msgid")) for m in got[1:-1]] == [
        (["#h", "first"], msgid),
        (["#h", "x"], None),
    ]


async def test_join_autoreplay_gives_the_batch_or_the_fallback(start_server: Any) -> None:
    irc = await start_server(history={"autoreplay_lines": 5})
    alice = await irc.client("alice", MULTI)
    await join_all("#j", alice)
    await send_batch(alice, "#j", ["@batch=b1 PRIVMSG #j :one", "@batch=b1 PRIVMSG #j :two"])
    await alice.sync()
    carol = await irc.client("carol", MULTI)
    await carol.send("JOIN #j")
    batch = [await carol.expect(lambda m: m.command in ("BATCH", "PRIVMSG")) for _ in range(4)]
    assert [m.command for m in batch] == ["BATCH", "PRIVMSG", "PRIVMSG", "BATCH"]
    assert [m.params for m in batch[1:3]] == [["#j", "one"], ["#j", "two"]]
    dave = await irc.client("dave")
    await dave.send("JOIN #j")
    got = [await dave.expect("PRIVMSG") for _ in range(2)]
    assert [m.params for m in got] == [["#j", "one"], ["#j", "two"]]
    await dave.nothing()


async def test_refusals_carry_the_label_of_the_opening_batch(irc: Any) -> None:
    alice = await irc.client("alice", MULTI)
    await send_batch(alice, "#nowhere", ["@batch=b1 PRIVMSG #nowhere :hi"], "@label=q ")
    assert [(m.command, m.tags.get("label")) for m in await alice.sync()] == [("403", "q")]
    await send_batch(alice, "nobody", ["@batch=b1 PRIVMSG nobody :hi"], "@label=r ")
    assert [(m.command, m.tags.get("label")) for m in await alice.sync()] == [("401", "r")]
    await send_batch(alice, "#m", ["@batch=b1 PRIVMSG #x :hi"], "@label=s ")
    got = await alice.sync()
    assert [(m.command, m.params[1], m.tags.get("label")) for m in got] == [
        ("FAIL", "MULTILINE_INVALID_TARGET", "s")
    ]
