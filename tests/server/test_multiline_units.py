"""The sans-I/O parts of draft/multiline: the stored line composition and
the per-line rules and limits of an open batch."""

from __future__ import annotations

import pytest

from hubbub.server import multiline_form
from hubbub.server.multiline_batch import OpenBatch

LINES = [("hello", False), ("", False), ("how is ", False), ("everyone?", True)]


def test_combine_joins_with_line_feeds_except_concatenated_lines() -> None:
    assert multiline_form.combine(LINES) == "hello\n\nhow is everyone?"


@pytest.mark.parametrize(
    "lines",
    [
        LINES,
        [("a", False)],
        [("", False), ("x", False)],
        [("é\nno", False), ("🙂", True)],  # a stored text may hold what combine added
        [("a", False), ("b", True), ("c", True)],
    ],
)
def test_split_gives_back_the_lines(lines: list[tuple[str, bool]]) -> None:
    text = multiline_form.combine(lines)
    layout = multiline_form.composition(lines)
    # the first line's concat flag has no meaning: it comes back as written
    assert multiline_form.split(text, layout) == lines


@pytest.mark.parametrize(
    ("text", "layout"), [("abc", "2"), ("ab", "1,1"), ("ab", "x"), ("a\nb", "1,1c")]
)
def test_split_refuses_a_layout_that_does_not_fit(text: str, layout: str) -> None:
    assert multiline_form.split(text, layout) is None


def test_fallback_leaves_out_blank_lines_and_tags_the_first_with_the_msgid() -> None:
    lines = multiline_form.fallback_form(
        "a!u@h", "PRIVMSG", "#c", LINES, ["msgid=1", "time=t"], ["time=t"], outer="o"
    )
    assert lines == [
        b"@batch=o;msgid=1;time=t :a!u@h PRIVMSG #c hello\r\n",
        b"@batch=o;time=t :a!u@h PRIVMSG #c :how is \r\n",
        b"@batch=o;time=t :a!u@h PRIVMSG #c everyone?\r\n",
    ]


def test_batch_form_puts_the_tags_on_the_opener_only() -> None:
    lines = multiline_form.batch_form("a!u@h", "NOTICE", "bob", LINES, ["msgid=1"])
    ref = lines[0].split(b" ")[3][1:].decode()
    assert lines[0] == f"@msgid=1 :a!u@h BATCH +{ref} draft/multiline bob\r\n".encode()
    assert lines[1:-1] == [
        f"@batch={ref} :a!u@h NOTICE bob hello\r\n".encode(),
        f"@batch={ref} :a!u@h NOTICE bob :\r\n".encode(),
        f"@batch={ref} :a!u@h NOTICE bob :how is \r\n".encode(),
        f"@batch={ref};draft/multiline-concat :a!u@h NOTICE bob everyone?\r\n".encode(),
    ]
    assert lines[-1] == f"BATCH -{ref}\r\n".encode()


def new_batch() -> OpenBatch:
    return OpenBatch("r", "#Chan", None, {}, 0.0)


def test_limits_count_bytes_and_line_feeds() -> None:
    batch = new_batch()
    assert batch.add("PRIVMSG", "#chan", "é" * 2, False, 9, 3) is None  # 4 bytes
    assert batch.add("PRIVMSG", "#CHAN", "abcd", False, 9, 3) is None  # + LF + 4 = 9
    assert batch.add("PRIVMSG", "#chan", "x", True, 9, 3) == (
        "MULTILINE_MAX_BYTES",
        ["9"],
        "Multiline batch max-bytes exceeded",
    )
    assert batch.size == 9 and len(batch.lines) == 2


def test_line_limit_target_command_and_blank_concat() -> None:
    batch = new_batch()
    for _ in range(2):
        assert batch.add("PRIVMSG", "#chan", "a", False, 100, 2) is None
    assert batch.add("PRIVMSG", "#chan", "a", False, 100, 2) is not None
    assert batch.add("PRIVMSG", "#other", "a", False, 100, 9) == (
        "MULTILINE_INVALID_TARGET",
        ["#Chan", "#other"],
        "Invalid multiline target",
    )
    problem = batch.add("NOTICE", "#chan", "a", False, 100, 9)
    assert problem is not None and problem[0] == "MULTILINE_INVALID"
    problem = batch.add("PRIVMSG", "#chan", "", True, 100, 9)
    assert problem is not None and problem[0] == "MULTILINE_INVALID"


def test_a_batch_of_blank_lines_is_incomplete() -> None:
    batch = new_batch()
    assert batch.add("PRIVMSG", "#chan", "", False, 100, 9) is None
    assert batch.complete() is not None
    assert batch.add("PRIVMSG", "#chan", "x", False, 100, 9) is None
    assert batch.complete() is None
