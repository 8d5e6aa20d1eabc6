"""Tab completion of the word before the cursor: commands, channels and nicks.
Shared by the terminal and desktop clients."""

from __future__ import annotations

from hubbub.client.commands import COMMANDS, is_channel
from hubbub.client.session import ChatSession
from hubbub.protocol.casemap import fold


def candidates(session: ChatSession, word: str, at_start: bool) -> list[str]:
    """Completions for ``word``; ``at_start`` when it is the first word typed."""
    if word.startswith("/") and at_start:
        return sorted("/" + name for name in COMMANDS if name.startswith(word[1:].lower()))
    prefix = fold(word)
    if is_channel(word) or word in ("#", "&"):
        names = [c.name for c in session.conversations.values() if c.kind == "channel"]
    else:
        members = [m.lstrip("~&@%+") for m in session.current.members]
        private = [c.name for c in session.conversations.values() if c.kind == "private"]
        names = [n for n in dict.fromkeys(members + private) if fold(n) != fold(session.nick)]
    return sorted((n for n in names if fold(n).startswith(prefix)), key=fold)


def complete(session: ChatSession, text: str, cursor: int) -> tuple[str, int] | None:
    """Complete the word ending at ``cursor``; returns the new text and cursor,
    or None when nothing matches. Several matches extend to their common prefix."""
    before, after = text[:cursor], text[cursor:]
    start = len(before) - len(before.split(" ")[-1])
    word = before[start:]
    if not word:
        return None
    found = candidates(session, word, at_start=start == 0)
    if not found:
        return None
    if len(found) == 1:
        choice = found[0]
        if start == 0 and not choice.startswith(("/", "#", "&")):
            choice += ":"
        choice += " "
    else:
        choice = _common_prefix(found)
        if len(choice) <= len(word):
            return None
    new_before = before[:start] + choice
    return new_before + after, len(new_before)


def _common_prefix(words: list[str]) -> str:
    first = words[0]
    for i, ch in enumerate(first):
        if any(len(w) <= i or fold(w[i]) != fold(ch) for w in words[1:]):
            return first[:i]
    return first
