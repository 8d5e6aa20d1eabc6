from __future__ import annotations

import pytest

from hubbub.protocol import masks
from hubbub.protocol.casemap import fold, valid_channel, valid_nick


@pytest.mark.parametrize(
    ("mask", "text", "expected"),
    [
        ("*!*@*", "a!b@c", True),
        ("nick!*@*", "NICK!u@h", True),
        ("n?ck!*@*.example", "nick!u@host.example", True),
        ("*!*@10.0.0.*", "a!b@10.0.1.2", False),
        ("a.b", "aXb", False),
    ],
)
def test_match(mask: str, text: str, expected: bool) -> None:
    assert masks.match(mask, text) is expected


def test_normalize_ban_mask() -> None:
    assert masks.normalize_ban_mask("bob") == "bob!*@*"
    assert masks.normalize_ban_mask("*.example.org") == "*!*@*.example.org"
    assert masks.normalize_ban_mask("u@h") == "*!u@h"
    assert masks.normalize_ban_mask("$a:acct") == "$a:acct"


def test_names() -> None:
    assert fold("NiCk[]") == "nick[]"
    assert valid_nick("alice_", 30) and not valid_nick("1abc", 30) and not valid_nick("a b", 30)
    assert not valid_nick("x" * 31, 30)
    assert valid_channel("#lobby", 64) and not valid_channel("lobby", 64)
    assert not valid_channel("#a,b", 64) and not valid_channel("#", 64)
