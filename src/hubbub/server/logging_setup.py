"""Log output for ``hubbub serve``: ``text`` for people, ``json`` for
machines (one JSON object per line: ts, level, logger, event, message and the
event's fields from log_events.FIELDS).

Every record goes through the same formatter, so a log shipper never meets
a line it cannot parse: records without an event are ``"event": "log"``,
and a traceback is one escaped string in ``exc``.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Literal

from hubbub.server.log_events import FIELDS

LogFormat = Literal["text", "json"]

# Loggers that would otherwise say too much (or log data) at INFO.
QUIET_LOGGERS = ("websockets", "alembic")


def _event_fields(record: logging.LogRecord) -> dict[str, object]:
    return {key: getattr(record, key) for key in FIELDS if hasattr(record, key)}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        seconds = int(record.created)
        millis = int((record.created - seconds) * 1000)
        entry: dict[str, object] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": "log",
        }
        entry.update(_event_fields(record))
        entry["message"] = record.getMessage()
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        # ensure_ascii: control characters and line breaks are always escaped,
        # so one record is one line whatever a field holds.
        return json.dumps(entry, ensure_ascii=True, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, with an event's fields appended as key=value."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = _event_fields(record)
        fields.pop("event", None)
        if not fields:
            return line
        pairs = " ".join(f"{key}={_text_value(value)}" for key, value in fields.items())
        head, newline, rest = line.partition("\n")  # keep a traceback below the fields
        return f"{head} [{pairs}]{newline}{rest}"


def _text_value(value: object) -> str:
    text = str(value)
    plain = text and text.isprintable() and " " not in text and '"' not in text
    return text if plain else json.dumps(text)


def configure_logging(level: str, log_format: LogFormat) -> None:
    """Send every record to stderr in ``log_format`` at ``level`` and above."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
