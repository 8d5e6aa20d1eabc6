"""Command families; importing this package fills the command table."""

from hubbub.server.commands import (  # noqa: F401
    channels,
    chanserv,
    chathistory,
    info,
    messaging,
    modes,
    operators,
    queries,
    registration,
    serverbans,
)
