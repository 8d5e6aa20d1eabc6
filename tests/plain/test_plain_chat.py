"""Plain chat over real sockets, as nc and telnet use it (CR LF lines), next
to an IRC client: greeting, naming, both directions, commands, limits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from harness import RunningServer, ServerFactory, join_all, until
from hubbub.protocol.message import Message
from ircclient import RawClient
from plainclient import GREETING, PLAIN_LISTENERS, PROMPT, PlainClient


async def plain(chat: RunningServer, made: list[PlainClient], name: str) -> PlainClient:
    client = await PlainClient.named(chat.port("plain-chat"), name)
    made.append(client)
    return client


async def irc_in_lobby(chat: RunningServer, nick: str) -> RawClient:
    client = await chat.client(nick)
    await join_all("#lobby", client)
    return client


def privmsg(target: str, text: str) -> Callable[[Message], bool]:
    return lambda m: m.command == "PRIVMSG" and m.params == [target, text]


async def test_greeting_is_NICK_alone_then_a_prompt_after_one_second(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    client = await PlainClient.connect(chat.port("plain-chat"))
    plain_clients.append(client)
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await client.greeting() == GREETING
    # Nothing follows the 4 bytes until the second has passed.
    early = asyncio.ensure_future(client.reader.read(1))
    done, _ = await asyncio.wait([early], timeout=0.7)
    assert not done, "the greeting did not arrive alone"
    assert await asyncio.wait_for(early, 5) == b"\n"  # NICK ends its line on a terminal
    assert loop.time() - started >= 0.95
    assert await client.line() == PROMPT


async def test_nc_user_and_irc_user_talk_both_ways(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await irc_in_lobby(chat, "bob")
    client = await PlainClient.connect(chat.port("plain-chat"))
    plain_clients.append(client)
    assert await client.greeting() == GREETING
    await client.send(b"alice\r\n")
    welcome = await client.line()
    assert welcome.startswith("Welcome alice!") and "{quit}" in welcome
    assert await client.line() == "alice has joined the chat!"
    joined = await bob.expect("JOIN")
    assert joined.source is not None and joined.source.startswith("alice!")
    assert joined.params == ["#lobby"]

    await bob.send("PRIVMSG #lobby :hi alice")
    assert await client.line() == "bob: hi alice"
    await client.send(b"hello bob\r\n")
    await bob.expect(privmsg("#lobby", "hello bob"))
    assert await client.line() == "alice: hello bob"  # echo = true

    await bob.send("PRIVMSG alice :psst")
    assert await client.line() == "[private] bob: psst"
    await bob.send("PRIVMSG #lobby :\x01ACTION waves\x01")
    assert await client.line() == "* bob waves"

    await bob.send("PART #lobby")
    assert await client.line() == "bob has left the chat."


async def test_several_lines_in_one_write_and_the_own_name_prefix(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await irc_in_lobby(chat, "bob")
    alice = await plain(chat, plain_clients, "alice")
    await alice.send(b"one\ntwo\r\nalice: three\nAlice: four\nbob: five\n")
    for text in ("one", "two", "three", "four", "bob: five"):
        await bob.expect(privmsg("#lobby", text))


async def test_a_message_without_newline_ends_when_the_client_pauses(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await irc_in_lobby(chat, "bob")
    client = await PlainClient.connect(chat.port("plain-chat"))
    plain_clients.append(client)
    assert await client.greeting() == GREETING
    await client.send(b"carol")
    await client.expect("carol has joined the chat!")
    await client.send(b"no ")
    await asyncio.sleep(0.05)
    await client.send(b"newline")  # two writes close together: one message
    await bob.expect(privmsg("#lobby", "no newline"))


async def test_a_taken_name_and_an_invalid_name_get_a_reason_and_a_new_prompt(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await irc_in_lobby(chat, "bob")
    client = await PlainClient.connect(chat.port("plain-chat"))
    plain_clients.append(client)
    assert await client.greeting() == GREETING
    await client.send(b"BOB\r\n")
    assert await client.line() == "The name BOB is already taken."
    assert await client.line() == PROMPT
    await client.send(b"two words\r\n")
    reason = await client.line()
    assert reason.startswith("two words cannot be a name:"), reason
    assert await client.line() == PROMPT
    await client.send(b"\r\n")
    assert await client.line() == "A name cannot be empty."
    assert await client.line() == PROMPT
    await client.send(b"dave\r\nhello after naming\r\n")
    await client.expect("dave has joined the chat!")
    await bob.expect(privmsg("#lobby", "hello after naming"))


async def test_invalid_utf8_is_replaced_and_a_5000_byte_line_is_cut(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await irc_in_lobby(chat, "bob")
    alice = await plain(chat, plain_clients, "alice")
    await alice.send(b"caf\xe9 \xc3\x28 \x80 ok\r\n")
    await bob.expect(privmsg("#lobby", "caf\ufffd \ufffd( \ufffd ok"))
    await alice.send(b"x" * 5000 + b"\r\n")
    long = await bob.expect("PRIVMSG")
    line = f":{long.source} PRIVMSG #lobby :{long.params[1]}".encode()
    assert len(line) == 510 and set(long.params[1]) == {"x"}
    await alice.send(b"still here\r\n")
    await bob.expect(privmsg("#lobby", "still here"))


async def test_quit_word_is_answered_and_closes_and_others_see_the_user_leave(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await irc_in_lobby(chat, "bob")
    carol = await plain(chat, plain_clients, "carol")
    alice = await plain(chat, plain_clients, "alice")
    await carol.expect("alice has joined the chat!")
    await alice.send(b"{quit}")
    assert await alice.rest() == b"{quit}"
    quit_ = await bob.expect("QUIT")
    assert quit_.source is not None and quit_.source.startswith("alice!")
    assert await carol.line() == "alice has left the chat."


async def test_a_client_that_disconnects_without_quit_leaves(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await irc_in_lobby(chat, "bob")
    alice = await plain(chat, plain_clients, "alice")
    alice.writer.transport.abort()  # no {quit}, no FIN handshake: a reset
    quit_ = await bob.expect("QUIT")
    assert quit_.source is not None and quit_.source.startswith("alice!")
    await until(lambda: chat.server.world.find_user("alice") is None)


async def test_commands(chat: RunningServer, plain_clients: list[PlainClient]) -> None:
    bob = await irc_in_lobby(chat, "bob")
    alice = await plain(chat, plain_clients, "alice")
    await alice.send(b"/help\r\n")
    assert await alice.line() == "Commands:"
    await alice.expect("  //TEXT           send TEXT starting with one /")
    await alice.send(b"/who\r\n")
    assert await alice.line() == "In #lobby: @bob, alice"
    await alice.send(b"/msg bob secret plan\r\n")
    await bob.expect(privmsg("bob", "secret plan"))
    assert await alice.line() == "[private to bob] alice: secret plan"
    await alice.send(b"/me waves\r\n")
    await bob.expect(privmsg("#lobby", "\x01ACTION waves\x01"))
    assert await alice.line() == "* alice waves"
    await alice.send(b"/nick bob\r\n")
    assert await alice.line() == "The name bob is already taken."
    await alice.send(b"/nick alicia\r\n")
    renamed = await bob.expect("NICK")
    assert renamed.params == ["alicia"]
    assert await alice.line() == "You are now known as alicia."
    await alice.send(b"alicia: prefixed\r\n//slash\r\n/dance\r\n")
    await bob.expect(privmsg("#lobby", "prefixed"))
    await bob.expect(privmsg("#lobby", "/slash"))
    await alice.expect("Unknown command /dance. Type /help for the commands.")
    await alice.send(b"/quit gone home\r\n")
    assert (await alice.rest()).endswith(b"{quit}")
    quit_ = await bob.expect("QUIT")
    assert quit_.params == ["Quit: gone home"]


async def test_whois_shows_a_plain_chat_connection(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await chat.client("bob")
    await plain(chat, plain_clients, "alice")
    replies = await bob.ask("WHOIS alice")
    special = [m.params for m in replies if m.command == "320"]
    assert special == [["bob", "alice", "is using plain chat (nc, telnet or a simple chat client)"]]
    assert [m.params[1] for m in await bob.ask("WHOIS bob") if m.command == "320"] == []
    assert chat.server.metrics.accepted["plain-chat"] == 1


async def test_flood_control_applies(
    start_server: ServerFactory, plain_clients: list[PlainClient]
) -> None:
    chat = await start_server(listen=PLAIN_LISTENERS, limits={"flood_control": True})
    bob = await irc_in_lobby(chat, "bob")
    alice = await plain(chat, plain_clients, "alice")
    await alice.send(b"".join(b"line %d\n" % i for i in range(100)))
    rest = (await alice.rest()).decode()
    assert rest.endswith("(Excess Flood)\n"), rest
    quit_: Message = await bob.expect("QUIT")
    assert quit_.params == ["Excess Flood"]


async def test_without_echo_own_messages_do_not_come_back(
    start_server: ServerFactory, plain_clients: list[PlainClient]
) -> None:
    chat = await start_server(listen=PLAIN_LISTENERS, plain={"echo": False, "channel": "#tea"})
    bob = await chat.client("bob")
    await join_all("#tea", bob)
    alice = await PlainClient.named(chat.port("plain-chat"), "alice")
    plain_clients.append(alice)
    await alice.send(b"no echo\r\n")
    await bob.expect(privmsg("#tea", "no echo"))
    await bob.send("PRIVMSG #tea :reply")
    assert await alice.line() == "bob: reply"


async def test_plain_users_are_not_timed_out_by_pings(
    start_server: ServerFactory, plain_clients: list[PlainClient]
) -> None:
    chat = await start_server(
        listen=PLAIN_LISTENERS, limits={"ping_interval": 0.2, "ping_timeout": 0.5}
    )
    alice = await plain(chat, plain_clients, "alice")
    await asyncio.sleep(2.5)
    assert chat.server.world.find_user("alice") is not None
    await alice.send(b"/who\n")
    assert await alice.line() == "In #lobby: @alice"


async def test_escape_sequences_from_irc_never_reach_the_terminal(
    chat: RunningServer, plain_clients: list[PlainClient]
) -> None:
    bob = await irc_in_lobby(chat, "bob")
    alice = await plain(chat, plain_clients, "alice")
    await bob.send("PRIVMSG #lobby :\x1b]0;owned\x07\x1b[2J\x02bold\x02 \x0304red")
    assert await alice.line() == "bob: ^[]0;owned^G^[[2Jbold red"
