"""The wildcard matcher: exact against a reference, and never exponential (H2)."""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hubbub.protocol import masks


def reference_match(mask: str, text: str) -> bool:
    """Textbook dynamic programming over (mask prefix, text prefix)."""
    mask, text = mask.lower(), text.lower()
    reachable = [True] + [False] * len(text)
    for ch in mask:
        if ch == "*":
            for i in range(1, len(text) + 1):
                reachable[i] = reachable[i] or reachable[i - 1]
        else:
            reachable = [False] + [
                reachable[i] and (ch == "?" or ch == text[i]) for i in range(len(text))
            ]
    return reachable[-1]


_mask_chars = st.sampled_from("ab*?A.!@")
_text_chars = st.sampled_from("abAB.!@*?")


@settings(max_examples=3000, deadline=None)
@given(st.text(_mask_chars, max_size=12), st.text(_text_chars, max_size=14))
def test_agrees_with_reference(mask: str, text: str) -> None:
    assert masks.match(mask, text) is reference_match(mask, text)


def _c_calls_during(mask: str, text: str) -> tuple[bool, int]:
    """Match, counting the C-level calls made (each regex search is one)."""
    calls = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "c_call":
            calls += 1

    glob = masks.compile_mask(mask)
    sys.setprofile(profile)
    try:
        result = glob.matches(text)
    finally:
        sys.setprofile(None)
    return result, calls


def test_adversarial_mask_is_matched_with_one_search_per_piece() -> None:
    mask = "*a" * masks.MAX_WILDCARDS + "b"
    text = "a" * 5000
    result, calls = _c_calls_during(mask, text)
    assert result is False
    # head, tail, one search per middle piece, len(), and setprofile(None).
    assert calls <= masks.MAX_WILDCARDS + 4


def test_adversarial_masks_give_exact_answers() -> None:
    # A backtracking regex needs ~8**n steps for n "*a": these would not end.
    stars = masks.MAX_WILDCARDS
    assert masks.match("*a" * stars + "b", "a" * 4000 + "b")
    assert not masks.match("*a" * stars + "b", "a" * 4000)
    assert masks.match("*a?" * (stars - 1) + "*", "ab" * 2000)
    assert not masks.match("?" * 5000, "a" * 4999)


def test_consecutive_stars_collapse_and_do_not_count() -> None:
    mask = "*" * 500 + "a" + "*" * 500
    assert masks.within_wildcard_cap(mask)
    assert masks.match(mask, "xxaxx") and not masks.match(mask, "xxbxx")
    assert masks.collapse_stars("a***b**") == "a*b*"


def test_mask_over_the_wildcard_cap_matches_nothing() -> None:
    at_cap = "*a" * masks.MAX_WILDCARDS + "*"  # MAX + 1 stars
    assert not masks.within_wildcard_cap(at_cap)
    assert not masks.match(at_cap, "a" * 100)
    assert masks.within_wildcard_cap("*a" * masks.MAX_WILDCARDS)
    assert masks.match("*a" * masks.MAX_WILDCARDS, "a" * 100)


def test_case_folding_and_literals() -> None:
    assert masks.match("*!*@HOST.example", "Nick!u@host.EXAMPLE")
    assert masks.match("a.b", "A.B") and not masks.match("a.b", "aXb")
    assert masks.match("[x]*", "[X]yz") and not masks.match("[x]", "x")
    assert masks.match("", "") and not masks.match("", "a")
    assert masks.match("*", "") and masks.match("a*a", "aa") and not masks.match("a*a", "a")
    assert masks.match("ä*", "ä!x@y") and masks.match("\n?", "\n\n")
