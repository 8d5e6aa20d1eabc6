"""The derived msgid (protocol/msgid.py): it round-trips to its row id, and
no msgid of another form (the older boot prefix + counter, anything a test
or an import stored, other spellings of the same number) decodes."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubbub.protocol.msgid import FIRST_ID, LAST_BOOT, first_id, msgid, row_id

ARABIC_INDIC = {ord(digit): 0x660 + int(digit) for digit in "0123456789"}
IDS = st.integers(min_value=FIRST_ID, max_value=((LAST_BOOT + 1) << 40) - 1)


@given(IDS)
def test_a_derived_msgid_names_its_row_id(value: int) -> None:
    assert row_id(msgid(value)) == value


def test_the_first_and_last_ids() -> None:
    assert msgid(first_id(1)) == "H1099511627776"
    assert row_id("H1099511627776") == FIRST_ID
    last = ((LAST_BOOT + 1) << 40) - 1
    assert last == 2**63 - 1  # what a signed 64-bit row id holds
    assert row_id(msgid(last)) == last


@given(st.binary(min_size=4, max_size=4), st.integers(min_value=1, max_value=2**64))
def test_an_older_msgid_is_never_derived(boot: bytes, counter: int) -> None:
    """Before migration 0010: 8 hex digits of a random boot prefix, then the
    counter in hex; channel events in further channels added ``-<n>``."""
    old = f"{boot.hex()}{counter:x}"
    assert row_id(old) is None
    assert row_id(f"{old}-1") is None


@given(st.text(max_size=30))
def test_text_is_derived_only_in_the_one_spelling(text: str) -> None:
    value = row_id(text)
    assert value is None or msgid(value) == text


@pytest.mark.parametrize(
    "text",
    [
        "",
        "H",
        "H1",  # boot 0: ids below the first boot are not derived
        "H1099511627775",
        "H01099511627776",  # a leading zero
        "h1099511627776",
        "H+1099511627776",
        "H1_099511627776",
        "H1099511627776.0",
        "H" + "1099511627776".translate(ARABIC_INDIC),  # the same digits in another script
        " H1099511627776",
        "H1099511627776 ",
        "H1099511627776-1",
        "H10000000000",  # the hex of the first id
        "H9223372036854775808",  # past a signed 64-bit id
        "m1",
        "id1",
        os.urandom(4).hex() + "1f",
    ],
)
def test_other_msgids_are_not_derived(text: str) -> None:
    assert row_id(text) is None


@pytest.mark.parametrize("boot", [0, -1, LAST_BOOT + 1])
def test_boot_numbers_outside_the_range_are_refused(boot: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        first_id(boot)
