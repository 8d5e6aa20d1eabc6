"""The labeled-response rules of the reply buffer, without a server."""

from __future__ import annotations

from hubbub.server.replies import Replies
from hubbub.server.state import User
from sessionkit import NullSink


def _user(*caps: str) -> User:
    user = User(NullSink(), "127.0.0.1", "127.0.0.1", 1, False)
    user.caps = set(caps)
    user.connection_id = 7
    return user


def test_no_reply_is_an_ack() -> None:
    assert Replies("a").render("srv", _user("batch")) == [b"@label=a :srv ACK\r\n"]


def test_one_reply_gets_the_label_and_keeps_its_tags() -> None:
    replies = Replies("b")
    replies.lines.append(b"@time=x :srv 421 me FOO :Unknown command\r\n")
    assert replies.render("srv", _user("batch")) == [
        b"@label=b;time=x :srv 421 me FOO :Unknown command\r\n"
    ]


def test_the_label_is_escaped() -> None:
    assert Replies("a b;c").render("srv", _user()) == [b"@label=a\\sb\\:c :srv ACK\r\n"]


def test_several_replies_are_one_batch_and_inner_batches_are_kept() -> None:
    replies = Replies("c")
    replies.lines += [b":srv NOTICE me :one\r\n", b"@batch=inner :srv NOTICE me :two\r\n"]
    start, one, two, end = replies.render("srv", _user("batch"))
    ref = start.split(b" ")[3][1:]
    assert start == b"@label=c :srv BATCH +" + ref + b" labeled-response\r\n"
    assert one == b"@batch=" + ref + b" :srv NOTICE me :one\r\n"
    assert two == b"@batch=inner :srv NOTICE me :two\r\n"
    assert end == b":srv BATCH -" + ref + b"\r\n"


def test_without_batch_several_replies_go_as_they_are() -> None:
    replies = Replies("d")
    replies.lines += [b":srv NOTICE me :one\r\n", b":srv NOTICE me :two\r\n"]
    assert replies.render("srv", _user()) == replies.lines
