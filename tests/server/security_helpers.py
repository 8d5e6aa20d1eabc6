"""Helpers shared by the account and history security tests: logged-in
clients, messages with their echoes, raw CHATHISTORY answers, services."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from hubbub.protocol.message import Message
from ircclient import RawClient

CAPS = ["batch", "server-time", "message-tags", "echo-message", "draft/chathistory"]
PASSWORD = "correct-horse-battery"


async def login_client(
    irc: Any, nick: str, caps: list[str] | None = None, *, create: bool = True
) -> RawClient:
    """A client logged in (SASL PLAIN over loopback) to the account ``nick``,
    made first unless ``create`` is False."""
    if create:
        await irc.server.store.accounts.create(nick, PASSWORD)
    client = await RawClient.connect("127.0.0.1", irc.port())
    irc.clients.append(client)
    await client.send("CAP LS 302")
    await client.send("CAP REQ :" + " ".join(["sasl", *(CAPS if caps is None else caps)]))
    await client.send(f"NICK {nick}")
    await client.send(f"USER {nick} 0 * :{nick}")
    await client.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    await client.send("AUTHENTICATE PLAIN")
    await client.expect("AUTHENTICATE")
    token = base64.b64encode(f"{nick}\0{nick}\0{PASSWORD}".encode()).decode()
    await client.send("AUTHENTICATE " + token)
    await client.expect("903")
    await client.send("CAP END")
    await client.expect("376")
    client.nick = nick
    return client


async def post(client: RawClient, target: str, texts: list[str]) -> None:
    """Send messages and wait for each echo, so each is relayed (and stored)."""
    for text in texts:
        await client.send(f"PRIVMSG {target} :{text}")
        await client.expect(_privmsg_with(text))


async def ask_history(client: RawClient, line: str) -> tuple[list[str], list[Message]]:
    """Send a CHATHISTORY command: (texts of the messages served, FAIL replies)."""
    lines = await client.ask(line)
    services = ("NickServ!", "ChanServ!")  # their notices may arrive meanwhile
    served = [
        m.params[1]
        for m in lines
        if m.command in ("PRIVMSG", "NOTICE") and not (m.source or "").startswith(services)
    ]
    served += [m.params[1] for m in lines if m.command == "CHATHISTORY"]
    return served, [m for m in lines if m.command == "FAIL"]


async def service(client: RawClient, name: str, text: str) -> str:
    """Send ``text`` to a service; its NOTICE answers, joined."""
    lines = await client.ask(f"PRIVMSG {name} :{text}")
    return "\n".join(
        m.params[1]
        for m in lines
        if m.command == "NOTICE" and (m.source or "").startswith(name + "!")
    )


def _privmsg_with(text: str) -> Callable[[Message], bool]:
    """A matcher for the PRIVMSG carrying ``text``."""
    return lambda m: m.command == "PRIVMSG" and m.params[1] == text
