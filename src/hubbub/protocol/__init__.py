"""Sans-I/O IRC protocol: messages, tags, numerics, case mapping, masks."""

from hubbub.protocol.message import (
    Message,
    ProtocolError,
    parse,
    parse_line,
    serialize,
)

__all__ = ["Message", "ProtocolError", "parse", "parse_line", "serialize"]
