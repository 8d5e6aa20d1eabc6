"""H2: hostile wildcard masks from any user must not freeze the server."""

from __future__ import annotations

from harness import RunningServer, ServerFactory
from hubbub.protocol import masks


async def test_list_with_backtracking_mask_answers_and_server_stays_up(
    irc: RunningServer,
) -> None:
    alice = await irc.client("alice")
    bob = await irc.client("bob")
    await alice.send("JOIN #" + "a" * 40)
    await alice.expect("366")
    await alice.send("JOIN #" + "a" * 40 + "b")
    await alice.expect("366")
    # Seven "*a" froze the old regex matcher for 13 s, each extra one ~8x more.
    hostile = "*a" * (masks.MAX_WILDCARDS - 1) + "b"
    replies = await bob.ask("LIST " + hostile)
    listed = [m.params[1] for m in replies if m.command == "322"]
    assert listed == ["#" + "a" * 40 + "b"]
    assert replies[-1].command == "323"
    # Someone else is served right after.
    pong = await alice.ask("PING :still")
    assert [(m.command, m.params[-1]) for m in pong] == [("PONG", "still")]
    # Over the wildcard cap the mask matches nothing, at once.
    replies = await bob.ask("LIST " + "*a" * 200 + "b")
    assert [m.command for m in replies] == ["321", "323"]
    pong = await alice.ask("PING :again")
    assert [(m.command, m.params[-1]) for m in pong] == [("PONG", "again")]


async def test_who_and_whowas_with_hostile_masks_answer(irc: RunningServer) -> None:
    alice = await irc.client("a" * 20)
    bob = await irc.client("bob")
    hostile = "*a" * (masks.MAX_WILDCARDS - 1) + "b"
    who = await bob.ask("WHO " + hostile)
    assert [m.command for m in who] == ["315"]
    await alice.send("QUIT :bye")
    assert await alice.closed()
    whowas = await bob.ask("WHOWAS " + hostile)
    assert whowas[-1].command == "369"
    assert "314" not in [m.command for m in whowas]


async def test_ban_mask_over_wildcard_cap_is_refused(irc: RunningServer) -> None:
    op = await irc.client("op")
    await op.send("JOIN #c")
    await op.expect("366")
    too_many = "*a" * (masks.MAX_WILDCARDS + 1) + "!*@*"
    replies = await op.ask(f"MODE #c +b {too_many}")
    assert [(m.command, m.params[1:4]) for m in replies] == [
        ("696", ["#c", "b", too_many]),
    ]
    hostile_ok = "*a" * (masks.MAX_WILDCARDS - 2) + "b!*@*"
    replies = await op.ask(f"MODE #c +b {hostile_ok}")
    assert [m.command for m in replies] == ["MODE"]
    # The ban is checked against a joining user without stalling anyone.
    victim = await irc.client("a" * 20 + "b")
    joined = await victim.ask("JOIN #c")
    assert [m.command for m in joined] == ["474"]


async def test_kline_over_wildcard_cap_is_refused(start_server: ServerFactory) -> None:
    irc = await start_server(opers=[{"name": "admin", "password": "letmein"}])
    boss = await irc.client("boss")
    await boss.ask("OPER admin letmein")
    too_many = "*a" * (masks.MAX_WILDCARDS + 1) + "@203.0.113.9"
    replies = await boss.ask(f"KLINE {too_many} :reason")
    assert [(m.command, m.params[:3]) for m in replies] == [
        ("FAIL", ["KLINE", "INVALID_MASK", too_many])
    ]
