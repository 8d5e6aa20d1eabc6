"""The example bot, run by a Python that cannot import hubbub, says how to
run it instead of printing a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "examples" / "dice_bot.py"


def test_dice_bot_without_hubbub_says_how_to_run_it() -> None:
    # -S: no site-packages, so neither hubbub nor its dependencies import,
    # as with a system Python outside the virtualenv.
    result = subprocess.run(
        [sys.executable, "-S", str(BOT)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "cannot import hubbub" in lines[0]
    assert ".venv/bin/python examples/dice_bot.py" in lines[0]
