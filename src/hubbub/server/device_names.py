"""Device names (issue 16): a client names its device after the account,
``alice@phone``, in the SASL authentication identity, the USER ident or
PASS (``alice@phone:password``). The server remembers when each named
device was last connected, to replay what it missed.

Account names can hold no ``@`` (store/sql/accounts.check_account_name),
so the split is never ambiguous."""

from __future__ import annotations

import re

_DEVICE = re.compile(r"[A-Za-z0-9_.\-]{1,32}")


def split_device(name: str) -> tuple[str, str | None]:
    """``alice@phone`` -> (``alice``, ``phone``); no or a malformed device: None."""
    account, at, device = name.partition("@")
    if not at:
        return name, None
    return account, device if _DEVICE.fullmatch(device) else None
