"""A draft/multiline batch while the client sends it: its lines, and the
spec's limits and rules checked line by line, so nothing past ``max-bytes``
or ``max-lines`` is ever held (https://ircv3.net/specs/extensions/multiline).

Plain data and rules, no I/O: ``commands/multiline`` opens and delivers a
batch, ``commands/messaging`` hands it the PRIVMSG/NOTICE lines tagged with
its reference. A problem is returned as the FAIL code and its parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hubbub.protocol.casemap import fold

Problem = tuple[str, list[str], str]  # FAIL code, its parameters, the description


@dataclass(slots=True)
class OpenBatch:
    """The batch a client has opened and not yet closed. Once ``failed``, its
    remaining lines are dropped in silence until it is closed."""

    ref: str
    target: str
    label: str | None
    tags: dict[str, str]  # the client tags of the opening BATCH: the message's
    opened: float  # monotonic seconds
    command: str = ""  # PRIVMSG or NOTICE, set by the first line
    lines: list[tuple[str, bool]] = field(default_factory=list)
    size: int = 0  # bytes counted against max-bytes
    failed: bool = False

    def add(
        self, command: str, target: str, text: str, concat: bool, max_bytes: int, max_lines: int
    ) -> Problem | None:
        """Take one line, or say why the batch fails with it."""
        if fold(target) != fold(self.target):
            return (
                "MULTILINE_INVALID_TARGET",
                [self.target, target],
                "Invalid multiline target",
            )
        if self.command and command != self.command:
            return "MULTILINE_INVALID", [], "A multiline batch mixes PRIVMSG and NOTICE"
        if concat and not text:
            return "MULTILINE_INVALID", [], "A blank line cannot be concatenated"
        size = self.size + len(text.encode()) + (1 if self.lines and not concat else 0)
        if size > max_bytes:
            return "MULTILINE_MAX_BYTES", [str(max_bytes)], "Multiline batch max-bytes exceeded"
        if len(self.lines) + 1 > max_lines:
            return "MULTILINE_MAX_LINES", [str(max_lines)], "Multiline batch max-lines exceeded"
        self.command = command
        self.size = size
        self.lines.append((text, concat))
        return None

    def complete(self) -> Problem | None:
        """Why the closed batch cannot be delivered, or None."""
        if not any(text for text, _concat in self.lines):
            return "MULTILINE_INVALID", [], "A multiline batch needs a line that is not blank"
        return None
