"""Who hears of a delivered message (``Hooks.delivered`` and
``Hooks.delivered_between_guests``, chosen by ``api.private_listeners``):
a private message between two guests reaches only the listeners that asked
for those, whichever path carried it; everything else reaches ``delivered``.
Over real sockets, with listeners that note what they heard."""

from __future__ import annotations

from typing import Any

import pytest

from harness import join_all
from hubbub.server.api import Delivered, Hooks, private_listeners
from hubbub.server.state import User
from sessionkit import NullSink

pytestmark = pytest.mark.usefixtures("cheap_hashes")

MULTILINE_CAPS = ["message-tags", "batch", "draft/multiline"]


def _listen(irc: Any) -> tuple[list[str], list[str]]:
    """The texts heard by a listener of ``delivered`` and by one of
    ``delivered_between_guests``."""
    every: list[str] = []
    guests: list[str] = []
    hooks = irc.server.hooks

    def hear_every(delivered: Delivered) -> None:
        every.append(delivered.text)

    def hear_guests(delivered: Delivered) -> None:
        guests.append(delivered.text)

    hooks.delivered.append(hear_every)
    hooks.delivered_between_guests.append(hear_guests)
    return every, guests


async def test_a_private_message_between_guests_reaches_only_the_guests_listeners(
    irc: Any,
) -> None:
    every, guests = _listen(irc)
    alice = await irc.client("alice", MULTILINE_CAPS)
    bob = await irc.client("bob")
    await alice.send("PRIVMSG bob :the fast path")
    await alice.send("@+x=1 PRIVMSG bob :the general path")
    await alice.send("BATCH +b1 draft/multiline bob")
    await alice.send("@batch=b1 PRIVMSG bob :one")
    await alice.send("@batch=b1 PRIVMSG bob :batch")
    await alice.send("BATCH -b1")
    await bob.expect(lambda m: m.command == "PRIVMSG" and m.params[1] == "batch")
    assert guests == ["the fast path", "the general path", "one\nbatch"]
    assert every == []


async def test_a_private_message_with_a_logged_in_party_reaches_delivered(irc: Any) -> None:
    every, guests = _listen(irc)
    alice = await irc.logged_in("alice", "alice-password")
    bob = await irc.client("bob")
    await alice.send("PRIVMSG bob :from an account")
    await bob.expect("PRIVMSG")
    await bob.send("PRIVMSG alice :to an account")
    await alice.expect("PRIVMSG")
    assert every == ["from an account", "to an account"]
    assert guests == []


async def test_a_channel_message_between_guests_reaches_delivered(irc: Any) -> None:
    every, guests = _listen(irc)
    alice, bob = await irc.client("alice"), await irc.client("bob")
    await join_all("#tea", alice, bob)
    await alice.send("PRIVMSG #tea :hello room")
    await bob.expect("PRIVMSG")
    assert every == ["hello room"]
    assert guests == []


def test_private_listeners_picks_by_the_parties_history_keys() -> None:
    hooks = Hooks()
    guest, other_guest, member = (User(NullSink(), "192.0.2.1", "host", 1, False) for _ in "abc")
    member.history_party = "@1"
    assert private_listeners(hooks, guest, other_guest) is hooks.delivered_between_guests
    assert private_listeners(hooks, guest, member) is hooks.delivered
    assert private_listeners(hooks, member, guest) is hooks.delivered
