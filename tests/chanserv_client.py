"""ChanServ test helpers: logged-in clients and short ways to talk to ChanServ."""

from __future__ import annotations

from typing import Any

from harness import joined
from hubbub.protocol.message import Message
from hubbub.server.commands.chanserv_channels import state_of
from ircclient import RawClient

PASSWORD = "correct horse battery"


async def login_client(
    irc: Any, nick: str, caps: list[str] | None = None, *, create: bool = True
) -> RawClient:
    """A client logged in (SASL PLAIN over loopback) to the account ``nick``."""
    client: RawClient = await irc.logged_in(nick, PASSWORD, caps, create=create)
    return client


def is_chanserv_notice(msg: Message) -> bool:
    return msg.command == "NOTICE" and (msg.source or "").startswith("ChanServ!")


async def cs(client: RawClient, text: str) -> str:
    """Send ChanServ a command; the text of its (first) answer."""
    await client.send("PRIVMSG ChanServ :" + text)
    return (await client.expect(is_chanserv_notice)).params[1]


async def cs_all(client: RawClient, text: str) -> list[str]:
    """Every NOTICE line ChanServ answers with (until a PING round-trip)."""
    await client.send("PRIVMSG ChanServ :" + text)
    await client.send("PING :sync")
    lines = await client.collect_until("PONG")
    return [m.params[1] for m in lines if is_chanserv_notice(m)]


join = joined  # the name the ChanServ tests use


async def stored_channel(irc: Any, name: str) -> Any:
    """The store's registration once ChanServ's pending writes are done."""
    await state_of(irc.server).drain()
    return await irc.server.store.channels.get(name)


def modes_seen(lines: list[Message]) -> list[list[str]]:
    return [m.params for m in lines if m.command == "MODE"]


async def registered_channel(irc: Any) -> RawClient:
    """alice, logged in, founder of #reg."""
    alice = await login_client(irc, "alice")
    await join(alice, "#reg")
    assert "now registered" in await cs(alice, "REGISTER #reg")
    return alice
