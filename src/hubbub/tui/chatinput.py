"""The input line: Enter sends, Up/Down walk the history, Tab completes."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input

from hubbub.client.completion import complete
from hubbub.client.session import ChatSession

MAX_HISTORY = 500


class ChatInput(Input):
    BINDINGS = [
        Binding("up", "history(-1)", show=False),
        Binding("down", "history(1)", show=False),
        Binding("tab", "complete", show=False),
    ]

    def __init__(self, session: ChatSession, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.session = session
        self.history: list[str] = []
        self._position = 0
        self._draft = ""

    def remember(self, text: str) -> None:
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
            del self.history[:-MAX_HISTORY]
        self._position = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.value
        self._position = max(0, min(len(self.history), self._position + step))
        self.value = (
            self.history[self._position] if self._position < len(self.history) else self._draft
        )
        self.cursor_position = len(self.value)

    def action_complete(self) -> None:
        result = complete(self.session, self.value, self.cursor_position)
        if result is not None:
            self.value, self.cursor_position = result
