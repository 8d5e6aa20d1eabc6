"""A small bot on the hubbub client library: it echoes and rolls dice.

Run a server (``make serve``), then, from the top of the repository, with
the Python of the virtualenv ``make`` set up (it has hubbub installed)::

    .venv/bin/python examples/dice_bot.py --host 127.0.0.1 --port 6667 --channel '#lobby'

(or any Python where ``pip install -e .`` was run in the repository).

In the channel (or privately), say:

    !roll 2d6     -> "alice rolled 2d6: 3 + 5 = 8"
    !echo words   -> "words"

The library does the rest: registration, nick fallback if "dicebot" is
taken, answering PINGs, reconnecting and re-joining after a server restart,
and pacing its replies so a flood of ``!roll`` does not get it kicked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import re
import sys

try:
    from hubbub.client import Client, ClientConfig, Connected, Disconnected, MessageEvent
except ModuleNotFoundError as exc:
    sys.exit(
        f"dice_bot: cannot import hubbub with {sys.executable} ({exc}); "
        "run it as .venv/bin/python examples/dice_bot.py (after make serve or make test)"
    )

DICE = re.compile(r"^(\d{0,2})d(\d{1,3})$")


def roll(spec: str, rng: random.Random) -> str:
    """``2d6`` -> ``"3 + 5 = 8"``; a readable complaint for anything else."""
    match = DICE.match(spec.strip().lower() or "1d6")
    if match is None:
        return "try !roll 2d6"
    count, sides = int(match.group(1) or 1), int(match.group(2))
    if not 1 <= count <= 20 or not 2 <= sides <= 1000:
        return "between 1 and 20 dice of 2 to 1000 sides, please"
    rolls = [rng.randint(1, sides) for _ in range(count)]
    return f"{' + '.join(map(str, rolls))} = {sum(rolls)}" if count > 1 else str(rolls[0])


def reply_to(event: MessageEvent, rng: random.Random) -> str | None:
    """The bot's answer to one message, or None to stay quiet."""
    if event.own or event.kind != "privmsg" or event.history:
        return None
    command, _, rest = event.text.partition(" ")
    if command == "!roll":
        return f"{event.source} rolled {rest.strip() or '1d6'}: {roll(rest, rng)}"
    if command == "!echo" and rest.strip():
        return rest.strip()
    return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6667)
    parser.add_argument("--nick", default="dicebot")
    parser.add_argument("--channel", action="append", default=[])
    args = parser.parse_args()
    config = ClientConfig(
        host=args.host, port=args.port, nick=args.nick, channels=args.channel or ["#lobby"]
    )
    rng = random.Random()
    client = Client(config)
    client.start()
    async for event in client.events():
        if isinstance(event, Connected):
            print(f"connected as {event.nick}")
        elif isinstance(event, Disconnected):
            print(f"disconnected: {event.reason}")
        elif isinstance(event, MessageEvent):
            answer = reply_to(event, rng)
            if answer is not None:
                client.say(event.conversation, answer)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
