"""Named devices get what they missed (issue 16): after every device left an
always-on user, others talk in its channel and to it; the server restarts;
the device comes back and gets exactly the missed messages, once."""

from __future__ import annotations

import pytest

from harness import RunningServer, ServerFactory, joined, sasl_plain, until
from ircclient import RawClient
from server.test_always_on import ns, restart
from server.test_multiclient import PASSWORD, device

pytestmark = pytest.mark.usefixtures("cheap_hashes")

CAPS = ("batch", "server-time", "message-tags")


async def read_privmsgs(client: RawClient, lines: list, count: int) -> list:
    """``lines`` and what ``client`` reads until ``count`` PRIVMSGs came (the
    replay runs after the burst, as history is read), then nothing more."""
    lines = list(lines)
    while sum(m.command == "PRIVMSG" for m in lines) < count:
        lines.append(await client.read())
    lines += await client.sync()
    return lines


def replayed(lines: list) -> list[tuple[str, str, str]]:
    """(batch target or '', target, text) of the PRIVMSGs in ``lines``."""
    batches = {
        m.params[0][1:]: m.params[2] for m in lines if m.command == "BATCH" and len(m.params) > 2
    }
    return [
        (batches.get(m.tags.get("batch", ""), ""), m.params[0], m.params[1])
        for m in lines
        if m.command == "PRIVMSG"
    ]


async def test_missed_messages_across_a_restart_exactly_once(
    start_server: ServerFactory,
) -> None:
    irc = await start_server()
    await irc.account("alice", PASSWORD)
    phone, _ = await device(irc, "alice", "alice@phone", CAPS)
    assert "ALWAYS-ON is now ON" in await ns(phone, "SET ALWAYS-ON ON")
    await joined(phone, "#tea")
    bob = await irc.client("bob")
    await joined(bob, "#tea")
    await bob.ask("PRIVMSG #tea :seen live")
    await phone.send("QUIT")
    assert await phone.closed()

    await bob.ask("PRIVMSG #tea :missed one")
    await bob.ask("PRIVMSG alice :missed private")

    irc = await restart(irc, start_server)
    bob = await irc.client("bob")
    await joined(bob, "#tea")
    await bob.ask("PRIVMSG #tea :missed two")

    phone, burst = await device(irc, "alice", "alice@phone", CAPS)
    lines = await read_privmsgs(phone, burst, 3)
    assert replayed(lines) == [
        ("#tea", "#tea", "missed one"),
        ("#tea", "#tea", "missed two"),
        ("bob", "alice", "missed private"),
    ]
    assert all("time" in m.tags for m in lines if m.command == "PRIVMSG")

    # live from now on, and nothing again on the next connection
    await bob.send("PRIVMSG #tea :live")
    assert (await phone.expect("PRIVMSG")).params == ["#tea", "live"]
    await phone.send("QUIT")
    assert await phone.closed()
    phone, burst = await device(irc, "alice", "alice@phone", CAPS)
    await until(lambda: not irc.server.tasks)  # a replay would be one of them
    assert replayed(burst + await phone.sync()) == []


async def test_plain_lines_without_batch_and_other_ways_to_name_a_device(
    irc: RunningServer,
) -> None:
    await irc.account("alice", PASSWORD)
    laptop, _ = await device(irc, "alice", "alice")
    await joined(laptop, "#tea")
    # USER alice@tablet names the device of a SASL login
    tablet = await irc.client()
    await tablet.send("CAP REQ :sasl")
    await tablet.send("NICK alice")
    await tablet.send("USER alice@tablet 0 * :x")
    await tablet.expect("CAP")
    assert (await sasl_plain(tablet, "alice", PASSWORD)).command == "903"
    await tablet.send("CAP END")
    await tablet.expect("376")
    await tablet.sync()
    text = await ns(laptop, "SESSIONS")
    assert "device: tablet" in text and "device: -" in text
    await tablet.send("QUIT")
    assert await tablet.closed()

    bob = await irc.client("bob")
    await joined(bob, "#tea")
    await bob.ask("PRIVMSG #tea :while the tablet was away")
    await irc.server.store.flush()

    # PASS alice@tablet:password logs in and names the device; no batch cap:
    # plain lines
    tablet = await irc.client()
    await tablet.send(f"PASS alice@tablet:{PASSWORD}")
    await tablet.send("NICK alice")
    await tablet.send("USER x 0 * :x")
    lines = await read_privmsgs(tablet, await tablet.collect_until("376"), 1)
    assert replayed(lines) == [("", "#tea", "while the tablet was away")]
    assert not any(m.command == "BATCH" for m in lines)


async def test_pass_with_a_wrong_password_is_refused(irc: RunningServer) -> None:
    await irc.account("alice", PASSWORD)
    client = await irc.client()
    await client.send("PASS alice:wrong-password")
    assert (await client.expect("464")).command == "464"
    assert await client.closed()


async def test_nickserv_identify_before_registration_joins_the_user(
    irc: RunningServer,
) -> None:
    await irc.account("alice", PASSWORD)
    laptop, _ = await device(irc)
    other = await irc.client()
    await other.send("NICK alice")
    await other.send(f"NICKSERV IDENTIFY alice {PASSWORD}")
    await other.send("USER x 0 * :x")
    welcome = await other.expect("001")
    assert welcome.params[0] == "alice"
    await other.send("PRIVMSG alice :note to self")
    assert (await laptop.expect("PRIVMSG")).params == ["alice", "note to self"]
    # anything but IDENTIFY waits for registration
    early = await irc.client()
    assert [m.command for m in await early.ask("NS INFO")] == ["451"]
