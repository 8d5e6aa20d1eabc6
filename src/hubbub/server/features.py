"""The features one server runs, installed in this order (docs/architecture.md,
"Where a new feature goes").

Each feature adds its hooks to ``server.hooks`` and its per-server state
objects through ``add`` (found again with ``server.feature(Kind)``). Nothing
is registered at import time: a server has exactly the features listed
here, and two servers in one process share none of their state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from hubbub.server import (
    always_on,
    history,
    metadata,
    missed_replay,
    multiclient,
    nick_protection,
    password_guard,
    presence_writer,
    read_markers,
)
from hubbub.server.cluster import (
    accounts_sync,
    backplane,
    bans_sync,
    logins_sync,
    registrations_sync,
)
from hubbub.server.commands import channels, chanserv, nickserv, registration, sasl, serverbans

if TYPE_CHECKING:
    from hubbub.server.api import ServerApi


def install_features(server: ServerApi, add: Callable[[object], None]) -> None:
    """Install every feature on ``server``. The order is the order hooks of
    the same moment run in: a joiner gets its topic and NAMES, then
    ChanServ's prefix, then the history replay; ChanServ's registrations
    load before history forgets the channels nobody registered; nick
    protection speaks before SASL's 906 at registration."""
    registration.install_cloaking(server, add)  # hosts hidden before anyone sees them
    channels.install(server)  # a joiner's topic and NAMES before anything else a JOIN triggers
    password_guard.install(server, add)  # login throttles and the hash gate
    chanserv.install(server, add)  # the ChanServ service, registered channels
    presence_writer.install(server, add)  # read markers, devices, always-on: kept at stop
    read_markers.install(server, add)  # draft/read-marker: loaded at start, sent on JOIN
    multiclient.install(server, add)  # one account, many devices: settings, JOIN on siblings
    always_on.install(server, add)  # always-on users back in their channels before history
    missed_replay.install(server, add)  # named devices: what they missed, on connect
    history.install(server)  # record deliveries, replay on JOIN, retention
    serverbans.install(server, add)  # D-lines at accept, K-lines at registration
    nickserv.install(server)  # the NickServ service
    nick_protection.install(server, add)  # registered nicks need their account
    sasl.install(server, add)  # SASL exchanges, 906 on registration mid-exchange
    metadata.install(server)  # IRCv3 metadata: burst, JOIN sync, WHOIS, stored at login
    if server.config.cluster.node is not None:
        plane = backplane.install(server, add)  # nodes sharing one network (docs/cluster.md)
        bans_sync.install(server, plane)  # K/D-lines enforced on every node at once
        accounts_sync.install(server, plane)  # accounts registered elsewhere, known here
        logins_sync.install(server, plane)  # failed logins count network-wide
        registrations_sync.install(server, plane)  # ChanServ's registrations on every node
