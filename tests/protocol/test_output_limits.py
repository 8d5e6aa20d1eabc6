"""Sans-I/O pieces of the output and input limits: fitting a line into 512
bytes, and reading the numbers clients send."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubbub.protocol.integers import ascii_int
from hubbub.protocol.message import MAX_BODY_TEXT, Message, fit_body, serialize


@given(st.text(min_size=0, max_size=700))
def test_fit_body_is_a_whole_character_prefix_within_510_bytes(text: str) -> None:
    body = ":nick!user@host PRIVMSG #c :" + text
    fitted = fit_body(body)
    assert body.startswith(fitted)
    assert len(fitted.encode()) <= MAX_BODY_TEXT
    if len(body.encode()) <= MAX_BODY_TEXT:
        assert fitted == body
    else:  # nothing more was cut than the split character
        assert len(fitted.encode()) > MAX_BODY_TEXT - 4


def test_serialize_guards_every_line() -> None:
    line = serialize(Message("PART", ["#c", "ü " * 200], "n!u@h"))
    assert len(line) <= 512 and line.endswith(b"\r\n")
    assert line.decode().startswith(":n!u@h PART #c :ü ü")


@pytest.mark.parametrize(
    ("text", "value"),
    [("302", 302), ("0", 0), ("007", 7), ("9" * 18, int("9" * 18))],
)
def test_ascii_int_reads_plain_decimals(text: str, value: int) -> None:
    assert ascii_int(text) == value


@pytest.mark.parametrize(
    "text", ["", "²", "\uff13\uff10\uff12", "٣", "-1", "+1", " 1", "1 ", "1_000", "1.0", "9" * 19]
)
def test_ascii_int_refuses_everything_else(text: str) -> None:
    assert ascii_int(text) is None
