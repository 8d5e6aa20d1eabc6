"""``hubbub bench``: a load generator for any IRC server.

It drives the same scenarios as the C tool ``ircload`` (connect, fanout,
direct, idle) so that its figures can be put next to that tool's. It is
built directly on ``asyncio.Protocol`` rather than on ``hubbub.client``
because the receive path must stay cheap enough not to become the
bottleneck at about a million deliveries per second.
"""
