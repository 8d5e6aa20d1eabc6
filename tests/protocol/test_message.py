"""Parsing and serialising IRC lines, including IRCv3 tags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubbub.protocol.message import (
    EmptyLine,
    ForbiddenCharacter,
    InvalidUTF8,
    LineTooLong,
    Message,
    TagsTooLong,
    TooManyParams,
    escape_tag_value,
    parse,
    parse_line,
    serialize,
    unescape_tag_value,
)


def test_parse_full_line() -> None:
    msg = parse("@time=2020-01-01T00:00:00.000Z;+x=a\\sb :nick!u@h PRIVMSG #c :hello world")
    assert msg.tags == {"time": "2020-01-01T00:00:00.000Z", "+x": "a b"}
    assert msg.source == "nick!u@h"
    assert msg.command == "PRIVMSG"
    assert msg.params == ["#c", "hello world"]


def test_command_is_uppercased_and_spaces_collapse() -> None:
    msg = parse("privmsg   #c   :x")
    assert msg.command == "PRIVMSG"
    assert msg.params == ["#c", "x"]


def test_empty_trailing_and_colon_in_middle() -> None:
    assert parse("TOPIC #c :").params == ["#c", ""]
    assert parse("USER a 0 * :Real :Name").params == ["a", "0", "*", "Real :Name"]


def test_tag_without_value_and_unknown_escape() -> None:
    assert parse("@a;b=;c=\\q\\ PING x").tags == {"a": "", "b": "", "c": "q"}


@pytest.mark.parametrize(
    ("line", "error"),
    [
        (b"", EmptyLine),
        (b"@a=b", EmptyLine),
        (b"PRIVMSG #c :\xff\xfe", InvalidUTF8),
        (b"PRIVMSG #c :" + b"x" * 600, LineTooLong),
        (b"@" + b"a" * 5000 + b" PING x", TagsTooLong),
        (b"PRIVMSG #c :a\x00b", ForbiddenCharacter),
        (b"PRIVMSG #c :a\rb", ForbiddenCharacter),
        (b"CMD " + b" ".join(b"p%d" % i for i in range(16)), TooManyParams),
    ],
)
def test_rejected_lines(line: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_line(line)


def test_invalid_utf8_names_the_command() -> None:
    with pytest.raises(InvalidUTF8) as info:
        parse_line(b"PRIVMSG #c :\xff")
    assert info.value.command == "PRIVMSG"


def test_line_limit_counts_body_not_tags() -> None:
    body = b"PRIVMSG #c :" + b"x" * (510 - 12)
    assert parse_line(b"@+t=" + b"y" * 3000 + b" " + body).command == "PRIVMSG"
    with pytest.raises(LineTooLong):
        parse_line(body + b"x")


def test_serialize_trailing_rules() -> None:
    assert (
        serialize(Message("PRIVMSG", ["#c", "hi there"], "n!u@h"))
        == b":n!u@h PRIVMSG #c :hi there\r\n"
    )
    assert serialize(Message("TOPIC", ["#c", ""])) == b"TOPIC #c :\r\n"
    assert serialize(Message("PRIVMSG", ["#c", ":)"])) == b"PRIVMSG #c ::)\r\n"
    assert serialize(Message("JOIN", ["#c"])) == b"JOIN #c\r\n"


def test_serialize_never_emits_line_breaks() -> None:
    data = serialize(Message("PRIVMSG", ["#c", "a\r\nQUIT :x\0"], tags={"+k": "v\r\n"}))
    assert data.count(b"\r\n") == 1 and data.endswith(b"\r\n")
    assert b"\0" not in data


def test_tag_escaping_examples() -> None:
    assert escape_tag_value("a;b c\\d\r\n") == "a\\:b\\sc\\\\d\\r\\n"
    assert unescape_tag_value("a\\:b\\sc\\\\d\\r\\n") == "a;b c\\d\r\n"
    assert unescape_tag_value("trailing\\") == "trailing"


middle = st.text(
    alphabet=st.characters(blacklist_characters=" \r\n\0:", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=20,
)
trailing = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\0", blacklist_categories=["Cs"]),
    max_size=60,
)
tag_key = st.from_regex(r"\+?[a-z][a-z0-9\-]{0,10}", fullmatch=True)
tag_value = st.text(
    alphabet=st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]), max_size=20
)


@given(
    command=st.from_regex(r"[A-Z]{1,10}|[0-9]{3}", fullmatch=True),
    params=st.lists(middle, max_size=10),
    last=st.one_of(st.none(), trailing),
    tags=st.dictionaries(tag_key, tag_value, max_size=5),
    source=st.one_of(
        st.none(), st.from_regex(r"[a-z]{1,9}![a-z]{1,9}@[a-z.]{1,20}", fullmatch=True)
    ),
)
def test_round_trip(
    command: str, params: list[str], last: str | None, tags: dict[str, str], source: str | None
) -> None:
    all_params = params + ([last] if last is not None else [])
    msg = Message(command, all_params, source, tags)
    line = serialize(msg)
    assert line.endswith(b"\r\n") and line.count(b"\n") == 1
    back = parse(line[:-2].decode())
    assert back == msg


@given(st.binary(max_size=700))
def test_parse_line_never_crashes(data: bytes) -> None:
    try:
        msg = parse_line(data.replace(b"\n", b""))
    except ValueError:
        return
    assert msg.command
    out = serialize(msg)
    assert out.count(b"\r\n") == 1
