"""The example dice bot, run as a real process against a real server."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from libpeers import PeerFactory

from hubbub.client import Join, MessageEvent, Names

BOT = Path(__file__).resolve().parents[2] / "examples" / "dice_bot.py"


async def test_dice_bot_answers(irc: object, peer: PeerFactory) -> None:
    alice = await peer("alice", channels=["#dice"])
    await alice.events().wait_for(Names)
    port = irc.port()  # type: ignore[attr-defined]
    bot = await asyncio.create_subprocess_exec(
        sys.executable, str(BOT), "--port", str(port), "--channel", "#dice",
        stdout=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await alice.events().wait_for(Join, lambda e: e.nick == "dicebot", timeout=10)
        alice.say("#dice", "!roll 3d6")
        answer = await alice.events().wait_for(MessageEvent, lambda e: e.source == "dicebot")
        assert answer.text.startswith("alice rolled 3d6: ")
        total = int(answer.text.rsplit("= ", 1)[1])
        assert 3 <= total <= 18
        alice.say("dicebot", "!echo privately")
        echo = await alice.events().wait_for(MessageEvent, lambda e: e.source == "dicebot")
        assert (echo.conversation, echo.text) == ("dicebot", "privately")
    finally:
        bot.terminate()
        await bot.wait()
