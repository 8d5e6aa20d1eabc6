"""Who sends to whom, and who hands each sender its credits back.

Pure arithmetic on the options, kept apart from the I/O so the observer
rule (the part most easily got wrong) can be tested on its own."""

from __future__ import annotations

from dataclasses import dataclass

from hubbub.bench.options import BenchOptions, Scenario


@dataclass(frozen=True, slots=True)
class SenderPlan:
    """One sending client: where its messages go and who acknowledges them."""

    index: int
    target: str
    observer: int
    recipients: int


def channel_name(channel: int) -> str:
    return f"#bench{channel}"


def nick(opts: BenchOptions, index: int) -> str:
    return f"{opts.nick_prefix}{index}"


def channel_members(opts: BenchOptions) -> list[int]:
    """Members per channel: client i joins channel i % channels."""
    return [len(range(ch, opts.clients, opts.channels)) for ch in range(opts.channels)]


def plan_senders(opts: BenchOptions) -> list[SenderPlan]:
    """The enabled senders, in index order.

    Fanout: the observer is the highest-numbered other member of the
    sender's channel (a non-sender whenever the channel has one) that is
    connected to the port after the sender's (client i is on port
    i % ports): with the clients spread over the nodes of a cluster, it
    sees the sender's messages only once they have crossed to another node,
    so no node's deliveries run ahead of the window. A sender alone in its
    channel, or a direct sender without a partner, is left out.
    """
    plans: list[SenderPlan] = []
    members = channel_members(opts)
    for s in range(opts.sender_count):
        if opts.scenario is Scenario.FANOUT:
            ch = s % opts.channels
            if members[ch] < 2:
                continue
            plans.append(SenderPlan(s, channel_name(ch), _observer(opts, ch, s), members[ch] - 1))
        else:
            partner = s ^ 1
            if partner >= opts.clients:
                continue
            plans.append(SenderPlan(s, nick(opts, partner), partner, 1))
    return plans


def _observer(opts: BenchOptions, channel: int, sender: int) -> int:
    """The highest member of ``channel`` but ``sender`` on the port after the
    sender's; the highest other member when none is among the highest few."""
    ports = len(opts.ports)
    wanted = (sender + 1) % ports
    fallback: int | None = None
    member = channel + opts.channels * ((opts.clients - 1 - channel) // opts.channels)
    for _ in range(2 * ports + 1):
        if member < channel:
            break
        if member != sender:
            if member % ports == wanted:
                return member
            fallback = member if fallback is None else fallback
        member -= opts.channels
    assert fallback is not None, "a channel with two members has another member"
    return fallback
