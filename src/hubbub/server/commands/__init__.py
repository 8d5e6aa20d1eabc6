"""Command families; importing this package fills the command table."""

from hubbub.server.commands import (  # noqa: F401
    account_registration,
    channel_rename,
    channels,
    chanserv,
    chathistory,
    info,
    markread,
    messaging,
    metadata,
    modes,
    multiline,
    nickserv,
    operators,
    presence,
    queries,
    redaction,
    registration,
    sasl,
    serverbans,
    service_aliases,
)
