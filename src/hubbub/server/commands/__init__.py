"""Command families; importing this package fills the command table."""

from hubbub.server.commands import (  # noqa: F401
    account_registration,
    channels,
    chanserv,
    chathistory,
    info,
    markread,
    messaging,
    modes,
    nickserv,
    nickserv_command,
    operators,
    presence,
    queries,
    registration,
    sasl,
    serverbans,
)
