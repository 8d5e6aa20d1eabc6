"""hubbub's asyncio IRC client library, shared by the terminal client, the
desktop client, the server panel and the load generator.

    config = ClientConfig(host="127.0.0.1", nick="alice", channels=["#lobby"])
    async with Client(config) as client:
        async for event in client.events():
            if isinstance(event, MessageEvent) and not event.own:
                client.say(event.conversation, event.text)
"""

from hubbub.client.client import Client, NotConnected, describe_connect_error, split_text
from hubbub.client.config import ClientConfig, default_config_dir
from hubbub.client.events import (
    AnyEvent,
    Away,
    CertificatePinned,
    Connected,
    Disconnected,
    Error,
    Event,
    Invite,
    Join,
    Kick,
    MessageEvent,
    ModeChange,
    Names,
    NickChange,
    Numeric,
    Part,
    Quit,
    Raw,
    ServerNotice,
    TopicChange,
)
from hubbub.client.state import Channel, ClientState, Member
from hubbub.client.stream import EventStream
from hubbub.client.tofu import (
    CertificateChanged,
    CertificateDowngrade,
    PinFileCorrupt,
    PinStore,
    TrustError,
    fingerprint,
)

__all__ = [
    "AnyEvent",
    "Away",
    "CertificateChanged",
    "CertificateDowngrade",
    "CertificatePinned",
    "Channel",
    "Client",
    "ClientConfig",
    "ClientState",
    "Connected",
    "Disconnected",
    "Error",
    "Event",
    "EventStream",
    "Invite",
    "Join",
    "Kick",
    "Member",
    "MessageEvent",
    "ModeChange",
    "Names",
    "NickChange",
    "NotConnected",
    "Numeric",
    "Part",
    "PinFileCorrupt",
    "PinStore",
    "Quit",
    "Raw",
    "ServerNotice",
    "TopicChange",
    "TrustError",
    "default_config_dir",
    "describe_connect_error",
    "fingerprint",
    "split_text",
]
