"""IRCv3 metadata (draft/metadata-3, the "Metadata 2" draft) over real sockets."""

from __future__ import annotations

from harness import OPERS, RunningServer, ServerFactory, joined, sasl_plain, until
from hubbub.protocol.message import Message

CAPS = ["draft/metadata-3", "batch"]


def numerics(messages: list[Message], *commands: str) -> list[list[str]]:
    return [m.params for m in messages if m.command in commands]


def batch_body(messages: list[Message], kind: str) -> list[Message]:
    """The lines of the one ``kind`` batch in ``messages`` (asserting it is there)."""
    starts = [m for m in messages if m.command == "BATCH" and m.params[1:2] == [kind]]
    assert len(starts) == 1, messages
    ref = starts[0].params[0][1:]
    assert any(m.command == "BATCH" and m.params == ["-" + ref] for m in messages), messages
    return [m for m in messages if m.tags.get("batch") == ref]


async def test_cap_value_advertises_before_connect_and_limits(irc: RunningServer) -> None:
    client = await irc.client()
    ls = await client.ask("CAP LS 302")
    caps = " ".join(m.params[-1] for m in ls if m.command == "CAP")
    entry = next(c for c in caps.split() if c.startswith("draft/metadata-3="))
    tokens = entry.split("=", 1)[1].split(",")
    assert "before-connect" in tokens
    assert {"max-subs=100", "max-keys=20", "max-value-bytes=300"} <= set(tokens)


async def test_set_get_list_unset_clear_own_metadata(irc: RunningServer) -> None:
    foo = await irc.client("foo", CAPS)
    reply = await foo.ask("METADATA * SET display-name :Foo The First")
    assert numerics(reply, "761") == [["foo", "foo", "display-name", "*", "Foo The First"]]
    await foo.ask("METADATA * SET pronouns :they/them")

    got = batch_body(await foo.ask("METADATA foo GET display-name avatar $bad"), "metadata")
    assert [(m.command, m.params[:3]) for m in got] == [
        ("761", ["foo", "foo", "display-name"]),
        ("766", ["foo", "foo", "avatar"]),
        ("FAIL", ["METADATA", "KEY_INVALID", "$bad"]),
    ]
    listed = batch_body(await foo.ask("METADATA * LIST"), "metadata")
    assert {m.params[2]: m.params[4] for m in listed} == {
        "display-name": "Foo The First",
        "pronouns": "they/them",
    }

    assert numerics(await foo.ask("METADATA * SET pronouns"), "766") == [
        ["foo", "foo", "pronouns", "Key not set"]
    ]
    fail = await foo.ask("METADATA * SET pronouns")
    assert numerics(fail, "FAIL") == [["METADATA", "KEY_NOT_SET", "foo", "pronouns", "Key not set"]]

    cleared = batch_body(await foo.ask("METADATA * CLEAR"), "metadata")
    assert numerics(cleared, "766") == [["foo", "foo", "display-name", "Key not set"]]
    assert batch_body(await foo.ask("METADATA * LIST"), "metadata") == []


async def test_bad_requests_get_the_drafts_fail_codes(irc: RunningServer) -> None:
    foo = await irc.client("foo", CAPS)
    await irc.client("bar", CAPS)
    cases = {
        "METADATA nobody LIST": ["METADATA", "INVALID_TARGET", "nobody"],
        "METADATA * SET Bad!Key :x": ["METADATA", "KEY_INVALID", "Bad!Key"],
        "METADATA bar SET avatar :x": ["METADATA", "KEY_NO_PERMISSION", "bar", "avatar"],
        "METADATA bar CLEAR": ["METADATA", "KEY_NO_PERMISSION", "bar", "*"],
        "METADATA * DESTROY": ["METADATA", "SUBCOMMAND_INVALID", "DESTROY"],
        "METADATA * SET status :" + "x" * 301: ["METADATA", "INVALID_VALUE", "status"],
    }
    for line, expected in cases.items():
        replies = await foo.ask(line)
        assert [m.command for m in replies] == ["FAIL"], (line, replies)
        assert replies[0].params[:-1] == expected, line
    assert numerics(await foo.ask("METADATA * GET"), "461")


async def test_invalid_utf8_value_is_refused(irc: RunningServer) -> None:
    foo = await irc.client("foo", CAPS)
    await foo.send_raw(b"METADATA * SET display-name :bad \xc3<-\r\n")
    replies = await foo.sync()
    assert [(m.command, m.params[1]) for m in replies] == [("FAIL", "INVALID_UTF8")]
    assert batch_body(await foo.ask("METADATA * LIST"), "metadata") == []


async def test_key_limit(start_server: ServerFactory) -> None:
    irc = await start_server(metadata={"max_keys": 2})
    foo = await irc.client("foo", CAPS)
    await foo.ask("METADATA * SET avatar :a")
    await foo.ask("METADATA * SET color :red")
    replies = await foo.ask("METADATA * SET status :busy")
    assert numerics(replies, "FAIL") == [
        ["METADATA", "LIMIT_REACHED", "foo", "Metadata limit reached"]
    ]
    # replacing a key already set is not a new key
    assert numerics(await foo.ask("METADATA * SET color :blue"), "761")


async def test_subscriptions_and_their_limit(start_server: ServerFactory) -> None:
    irc = await start_server(metadata={"max_subs": 3})
    foo = await irc.client("foo", CAPS)
    replies = await foo.ask("METADATA * SUB avatar $x display-name avatar color status homepage")
    assert numerics(replies, "770") == [["foo", "avatar", "display-name", "color"]]
    assert numerics(replies, "FAIL") == [
        ["METADATA", "KEY_INVALID", "$x", "Invalid key"],
        ["METADATA", "TOO_MANY_SUBS", "status", "Too many subscriptions"],
    ]
    subs = batch_body(await foo.ask("METADATA * SUBS"), "metadata-subs")
    assert [m.params[1:] for m in subs] == [["avatar", "color", "display-name"]]
    assert numerics(await foo.ask("METADATA * UNSUB color pronouns"), "771") == [
        ["foo", "color", "pronouns"]
    ]
    subs = batch_body(await foo.ask("METADATA * SUBS"), "metadata-subs")
    assert [m.params[1:] for m in subs] == [["avatar", "display-name"]]


async def test_subscribers_sharing_a_channel_are_told_of_changes(irc: RunningServer) -> None:
    foo = await irc.client("foo", CAPS)
    bar = await irc.client("bar", CAPS)
    plain = await irc.client("plain", CAPS)  # has the cap, subscribed to nothing
    stranger = await irc.client("stranger", CAPS)
    await bar.ask("METADATA * SUB display-name")
    await stranger.ask("METADATA * SUB display-name")
    for client in (foo, bar, plain):
        await joined(client, "#chan")
    for client in (foo, bar, plain):
        await client.sync()

    await foo.ask("METADATA * SET display-name :Foo")
    change = await bar.expect("761")
    assert change.params == ["*", "foo", "display-name", "*", "Foo"]
    await foo.ask("METADATA * SET avatar :https://example.com/a.png")  # bar did not subscribe
    await foo.ask("METADATA * SET display-name")
    gone = await bar.expect(lambda m: m.command in ("761", "766"))
    assert gone.command == "766" and gone.params[:3] == ["*", "foo", "display-name"]
    await bar.nothing()
    await plain.nothing()
    await stranger.nothing()


async def test_monitor_watchers_are_told_of_changes(irc: RunningServer) -> None:
    foo = await irc.client("foo", CAPS)
    watcher = await irc.client("watcher", CAPS)
    await watcher.ask("METADATA * SUB status")
    await watcher.ask("MONITOR + foo")
    await foo.ask("METADATA * SET status :lunch")
    assert (await watcher.expect("761")).params == ["*", "foo", "status", "*", "lunch"]


async def test_join_sends_the_channels_and_members_metadata(irc: RunningServer) -> None:
    foo = await irc.client("foo", CAPS)
    bar = await irc.client("bar", CAPS)
    await bar.ask("METADATA * SUB display-name avatar")
    await joined(foo, "#chan")
    await foo.ask("METADATA * SET display-name :Foo")
    await foo.ask("METADATA #chan SET avatar :https://example.com/chan.png")
    await foo.ask("METADATA #chan SET homepage :https://example.com/")  # not subscribed
    got = batch_body(await joined(bar, "#chan"), "metadata")
    assert sorted(m.params for m in got) == [
        ["bar", "#chan", "avatar", "*", "https://example.com/chan.png"],
        ["bar", "foo", "display-name", "*", "Foo"],
    ]
    synced = batch_body(await bar.ask("METADATA #chan SYNC"), "metadata")
    assert len(synced) == 2


async def test_a_large_channel_asks_to_sync_later(start_server: ServerFactory) -> None:
    irc = await start_server(metadata={"join_sync_members": 1})
    foo = await irc.client("foo", CAPS)
    bar = await irc.client("bar", CAPS)
    await bar.ask("METADATA * SUB display-name")
    await joined(foo, "#big")
    replies = await joined(bar, "#big")
    assert numerics(replies, "774") == [["bar", "#big"]]


async def test_channel_metadata_needs_a_channel_operator(start_server: ServerFactory) -> None:
    irc = await start_server(**OPERS)
    foo = await irc.client("foo", CAPS)
    bar = await irc.client("bar", CAPS)
    await joined(foo, "#chan")
    await joined(bar, "#chan")
    await foo.sync()
    replies = await bar.ask("METADATA #chan SET display-name :Mine")
    assert numerics(replies, "FAIL") == [
        ["METADATA", "KEY_NO_PERMISSION", "#chan", "display-name", "Permission denied"]
    ]
    await foo.ask("METADATA #chan SET display-name :Tea Room")
    got = batch_body(await bar.ask("METADATA #chan GET display-name"), "metadata")
    assert got[0].params == ["bar", "#chan", "display-name", "*", "Tea Room"]
    # an IRC operator may edit anyone's
    boss = await irc.oper("boss")
    await boss.ask("CAP REQ :draft/metadata-3 batch")
    assert numerics(await boss.ask("METADATA bar SET status :moderated"), "761")


async def test_closed_channels_keep_their_metadata_from_outsiders(irc: RunningServer) -> None:
    foo = await irc.client("foo", CAPS)
    outsider = await irc.client("outsider", CAPS)
    await joined(foo, "#inv")
    await joined(foo, "#secret")
    for name in ("#inv", "#secret"):
        await foo.ask(f"METADATA {name} SET display-name :hidden value")
    await foo.ask("MODE #inv +i")
    await foo.ask("MODE #secret +s")
    for sub in ("GET display-name", "LIST", "SYNC"):
        replies = await outsider.ask(f"METADATA #inv {sub}")
        assert numerics(replies, "FAIL") == [
            ["METADATA", "KEY_NO_PERMISSION", "#inv", "*", "Permission denied"]
        ]
        replies = await outsider.ask(f"METADATA #secret {sub}")
        assert [p[:3] for p in numerics(replies, "FAIL")] == [
            ["METADATA", "INVALID_TARGET", "#secret"]
        ]
        assert not any("hidden value" in m.params for m in replies)


async def test_before_connect_values_come_back_in_the_registration_burst(
    irc: RunningServer,
) -> None:
    client = await irc.client()
    await client.send("CAP LS 302")
    await client.send("CAP REQ :draft/metadata-3 batch")
    reply = await client.ask("METADATA * SET display-name :Early Bird")
    assert numerics(reply, "761") == [["*", "*", "display-name", "*", "Early Bird"]]
    refused = await client.ask("METADATA someone GET avatar")
    assert [p[1] for p in numerics(refused, "FAIL")] == ["KEY_NO_PERMISSION"]
    await client.send("NICK early")
    await client.send("USER early 0 * :early")
    await client.send("CAP END")
    burst = await client.collect_until("376")
    got = batch_body(burst, "metadata")
    assert [m.params for m in got] == [["early", "early", "display-name", "*", "Early Bird"]]
    # ... before the end of the MOTD
    assert [m.command for m in burst].index("BATCH") < [m.command for m in burst].index("376")


async def test_whois_shows_metadata_to_clients_with_the_cap(irc: RunningServer) -> None:
    foo = await irc.client("foo", CAPS)
    bar = await irc.client("bar", CAPS)
    legacy = await irc.client("legacy")
    await foo.ask("METADATA * SET pronouns :she/her")
    assert numerics(await bar.ask("WHOIS foo"), "760") == [
        ["bar", "foo", "pronouns", "*", "she/her"]
    ]
    assert numerics(await legacy.ask("WHOIS foo"), "760") == []


async def test_a_logged_in_users_metadata_is_kept_in_the_store(irc: RunningServer) -> None:
    first = await irc.logged_in("alice", "correct horse", CAPS)
    await first.ask("METADATA * SET avatar :https://example.com/alice.png")
    await first.ask("METADATA * SET color :#c90076")
    await first.ask("METADATA * SET color")
    assert await irc.server.store.metadata.load("alice") == {
        "avatar": "https://example.com/alice.png"
    }
    await first.close()

    # Next time: a value set before logging in is kept and stored, the rest
    # comes back from the store.
    second = await irc.client()
    await second.send("CAP LS 302")
    await second.send("CAP REQ :draft/metadata-3 batch sasl")
    await second.expect(lambda m: m.command == "CAP" and m.params[1] == "ACK")
    await second.ask("METADATA * SET status :back")
    assert (await sasl_plain(second, "alice", "correct horse")).command == "903"
    expected = {"avatar": "https://example.com/alice.png", "status": "back"}

    async def restored() -> bool:
        return await irc.server.store.metadata.load("alice") == expected

    await until(restored)
    await second.send("NICK alice_")
    await second.send("USER alice 0 * :alice")
    await second.send("CAP END")
    burst = await second.collect_until("376")
    assert {m.params[2]: m.params[4] for m in batch_body(burst, "metadata")} == expected

    await irc.server.store.accounts.delete("alice")
    assert await irc.server.store.metadata.load("alice") == {}


async def test_monitor_sends_the_watched_users_subscribed_values(irc: RunningServer) -> None:
    watcher = await irc.client("watcher", CAPS)
    await watcher.ask("METADATA * SUB avatar")
    foo = await irc.client("foo", CAPS)
    await foo.ask("METADATA * SET avatar :https://example.com/foo.png")
    await foo.ask("METADATA * SET status :hidden from watcher")
    answer = await watcher.ask("MONITOR + foo,later")
    assert numerics(answer, "761") == [
        ["watcher", "foo", "avatar", "*", "https://example.com/foo.png"]
    ]

    later = await irc.client()
    await later.send("CAP LS 302")
    await later.send("CAP REQ :draft/metadata-3 batch")
    await later.ask("METADATA * SET avatar :https://example.com/later.png")
    await later.send("NICK later")
    await later.send("USER later 0 * :later")
    await later.send("CAP END")
    await later.expect("376")
    seen = await watcher.sync()
    assert [(m.command, m.params[:2]) for m in seen] == [
        ("761", ["*", "later"]),
        ("730", ["*", seen[1].params[1]]),
    ]
    assert seen[0].params[2:] == ["avatar", "*", "https://example.com/later.png"]
    assert seen[1].params[1].startswith("later!")


async def test_an_avatar_is_checked_for_length_only_and_reaches_others_whole(
    irc: RunningServer,
) -> None:
    """The draft lets a value be any text; which avatars to load is the
    client's choice. A data: image of the full max-value-bytes, set by the
    longest nick, reaches a subscriber and WHOIS uncut; one byte more is refused."""
    nick = "n" * 30  # NICKLEN
    setter = await irc.client(nick, CAPS)
    viewer = await irc.client("v" * 30, CAPS)
    await viewer.ask("METADATA * SUB avatar")
    await joined(setter, "#av")
    await joined(viewer, "#av")
    avatar = "data:image/png;base64," + "A" * (300 - len("data:image/png;base64,"))
    assert numerics(await setter.ask(f"METADATA * SET avatar :{avatar}"), "761")
    assert (await viewer.expect("761")).params == ["*", nick, "avatar", "*", avatar]
    whois = numerics(await viewer.ask(f"WHOIS {nick}"), "760")
    assert whois == [["v" * 30, nick, "avatar", "*", avatar]]
    for text in ("not a URL at all", "javascript:alert(1)"):
        assert numerics(await setter.ask(f"METADATA * SET avatar :{text}"), "761")
    replies = await setter.ask(f"METADATA * SET avatar :{avatar}A")
    assert numerics(replies, "FAIL") == [
        ["METADATA", "INVALID_VALUE", "avatar", "Value is too long"]
    ]


async def test_a_value_that_would_be_cut_on_the_wire_is_refused(
    start_server: ServerFactory,
) -> None:
    """With long nicks allowed, a value within max-value-bytes may not fit in
    the line that carries it (``:server 760 <viewer> <nick> avatar * :...``):
    refused, rather than sent cut (a cut URL is another address)."""
    irc = await start_server(limits={"nicklen": 200})
    foo = await irc.client("foo", CAPS)
    # 510 - len(":irc.test.local 760 ") - 200 - 1 - 200 - 1 - len("avatar") - len(" * :")
    room = 510 - 20 - 200 - 1 - 200 - 1 - 6 - 4
    assert numerics(await foo.ask("METADATA * SET avatar :" + "a" * room), "761")
    replies = await foo.ask("METADATA * SET avatar :" + "a" * (room + 1))
    assert numerics(replies, "FAIL") == [
        ["METADATA", "INVALID_VALUE", "avatar", "Value is too long"]
    ]
