"""How names become lookup keys. Names are stored as given and compared through
these keys, so ``Alice`` and ``alice`` are one account, one conversation."""

from __future__ import annotations

from hubbub.protocol.casemap import fold

# A space can be in neither a nick, an account name nor a channel name, so a
# conversation key never collides with a channel key.
_SEPARATOR = " "
# Starts the party key of an account. "@" can be in no nick, so an account's
# key never equals the folded nick a guest is known by.
_ACCOUNT_PARTY = "@"


def name_key(name: str) -> str:
    """Key of an account, nick or channel name (CASEMAPPING=ascii)."""
    return fold(name)


def account_party(account_id: int) -> str:
    """The party key of an account for private history: its row id, which is
    never reused (AUTOINCREMENT), so a later account of the same name, or a
    guest using the nick, cannot read it."""
    return f"{_ACCOUNT_PARTY}{account_id}"


def party_account_id(party: str) -> int | None:
    """The account id behind a party key, None for a guest's folded nick."""
    if party.startswith(_ACCOUNT_PARTY) and party[1:].isdigit():
        return int(party[1:])
    return None


def conversation_key(party: str, other: str) -> str:
    """Key of the private conversation between two parties, the same from
    either side: the folded keys in sorted order."""
    first, second = sorted((fold(party), fold(other)))
    return f"{first}{_SEPARATOR}{second}"


def history_key(target: str) -> str:
    """Key under which history of ``target`` (a channel name or a
    ``conversation_key``) is filed."""
    return target if _SEPARATOR in target else fold(target)


def other_party(key: str, party: str) -> str:
    """Given a conversation key and one party's key, the other party's key."""
    first, _, second = key.partition(_SEPARATOR)
    return second if first == fold(party) else first
