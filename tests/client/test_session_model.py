"""The chat model shared by the UIs, fed with events (no network needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from chatevents import NOW, said

from hubbub.client import events as ev
from hubbub.client.completion import complete
from hubbub.client.flood import TokenBucket
from hubbub.client.session import ChatSession, mentions
from hubbub.client.state import ClientState
from hubbub.protocol.message import parse


def texts(session: ChatSession, name: str) -> list[str]:
    conv = session.get(name)
    assert conv is not None
    return [line.plain() for line in conv.lines]


def test_readable_channel_events() -> None:
    s = ChatSession("alice")
    s.apply(ev.Join("alice", "#lobby", own=True, time=NOW))
    assert s.current.name == "#lobby"
    events: list[ev.AnyEvent] = [
        ev.Join("bob", "#lobby", time=NOW),
        ev.TopicChange("#lobby", "Tea", "bob", time=NOW),
        ev.NickChange("bob", "rob", ("#lobby",), time=NOW),
        ev.Kick("#lobby", "rob", "alice", "bye", time=NOW),
        ev.Part("carol", "#lobby", "", time=NOW),
        ev.Quit("dave", "Ping timeout", ("#lobby",), time=NOW),
        ev.ModeChange("#lobby", "alice", "+o", ("rob",), time=NOW),
    ]
    for event in events:
        s.apply(event)
    assert texts(s, "#lobby") == [
        "-- You have joined #lobby",
        "-- bob has joined #lobby",
        "-- bob changed the topic to: Tea",
        "-- bob is now known as rob",
        "-- rob was kicked from #lobby by alice (bye)",
        "-- carol has left #lobby",
        "-- dave has quit (Ping timeout)",
        "-- alice sets mode +o rob on #lobby",
    ]
    assert s.current.topic == "Tea"


def test_unread_highlight_and_private_chats() -> None:
    s = ChatSession("alice")
    s.apply(ev.Join("alice", "#lobby", own=True, time=NOW))
    s.apply(ev.Join("alice", "#other", own=True, time=NOW))
    s.apply(said("bob", "#other", "hi"))
    other = s.get("#other")
    assert other is not None and other.unread == 1 and not other.highlight
    s.apply(said("bob", "#other", "Alice: look", msgid="m1"))
    assert other.unread == 2 and other.highlight
    s.apply(said("bob", "#other", "Alice: look", msgid="m1", history=True))
    assert len(other.lines) == 3  # the replayed msgid was not added twice
    s.apply(said("bob", "alice", "psst"))
    private = s.get("bob")
    assert private is not None and private.kind == "private" and private.highlight
    s.switch("#other")
    assert other.unread == 0 and not other.highlight
    assert [c.name for c in s.ordered()] == [s.server.name, "#lobby", "#other", "bob"]


def test_mentions_are_whole_words() -> None:
    assert mentions("hey alice!", "alice")
    assert mentions("ALICE: hi", "alice")
    assert not mentions("malice aforethought", "alice")
    assert not mentions("alice_ is another person", "alice")


def test_tab_completion() -> None:
    s = ChatSession("alice")
    s.apply(ev.Join("alice", "#lobby", own=True, time=NOW))
    s.set_members({"#lobby": ["@alice", "+bobby", "bonnie", "carol"]})
    assert complete(s, "/to", 3) == ("/topic ", 7)
    assert complete(s, "ca", 2) == ("carol: ", 7)
    assert complete(s, "hi bob", 6) == ("hi bobby ", 9)
    assert complete(s, "bo", 2) is None  # bobby and bonnie share only "bo"
    assert complete(s, "/join #lo", 9) == ("/join #lobby ", 13)
    assert complete(s, "al", 2) is None  # never complete our own nick


def test_state_tracks_prefixes_and_modes() -> None:
    state = ClientState(nick="alice")
    for line in [
        ":irc 001 alice :Welcome",
        ":irc 005 alice PREFIX=(qov)~@+ CHANMODES=b,k,l,mnt :are supported",
        ":alice!a@h JOIN #x",
        ":irc 353 alice = #x :~@alice +bob carol",
        ":irc 366 alice #x :End",
        ":alice!a@h MODE #x +ov-v carol carol bob",
        ":alice!a@h MODE #x +k secret",
    ]:
        state.apply(parse(line))
    members = [m.prefixes + m.nick for m in state.sorted_members("#x")]
    assert members == ["~@alice", "@+carol", "bob"]
    assert state.member_lists() == {"#x": ["~alice", "@carol", "bob"]}


def test_state_server_time_and_history_batches() -> None:
    state = ClientState(nick="alice")
    state.apply(parse(":irc BATCH +b1 chathistory #x"))
    (event,) = state.apply(
        parse("@batch=b1;time=2025-05-06T07:08:09.000Z;msgid=z :bob!b@h PRIVMSG #x :old")
    )
    assert isinstance(event, ev.MessageEvent)
    assert event.history and event.msgid == "z"
    assert event.time == datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    state.apply(parse(":irc BATCH -b1"))
    (live,) = state.apply(parse(":bob!b@h PRIVMSG #x :\x01ACTION naps\x01"))
    assert isinstance(live, ev.MessageEvent) and not live.history and live.kind == "action"


def test_token_bucket_bursts_then_paces() -> None:
    now = [0.0]
    bucket = TokenBucket(burst=5, rate=2.0, clock=lambda: now[0])
    for _ in range(5):
        assert bucket.delay() == 0
        bucket.take()
    assert bucket.delay() == 0.5
    now[0] += 0.5
    assert bucket.delay() == 0
    assert TokenBucket(burst=1, rate=0).delay() == 0  # rate 0 disables pacing


def test_rejoin_forgets_a_topic_that_is_gone() -> None:
    """After a server restart the channel comes back without its topic; the
    topic bar must not go on showing the old one."""
    s = ChatSession("alice")
    s.apply(ev.Join("alice", "#lobby", own=True, time=NOW))
    s.apply(ev.TopicChange("#lobby", "Tea at five", None, time=NOW))
    assert s.current.topic == "Tea at five"
    s.apply(ev.Disconnected("closed by the server", 1.0, time=NOW))
    s.apply(ev.Join("alice", "#lobby", own=True, time=NOW))
    assert s.current.topic == ""
    s.apply(ev.TopicChange("#lobby", "Still tea", None, time=NOW))
    assert s.current.topic == "Still tea"


def test_own_nick_change_and_replies_read_naturally() -> None:
    s = ChatSession("tina")
    s.apply(ev.Join("tina", "#lobby", own=True, time=NOW))
    s.apply(ev.NickChange("tina", "tinker", ("#lobby",), own=True, time=NOW))
    assert texts(s, "#lobby")[-1] == "-- You are now known as tinker"
    assert s.server.lines[-1].text == "You are now known as tinker"
    assert s.nick == "tinker"

    state = ClientState(nick="tina")
    (invited,) = state.apply(parse(":irc 341 tina ivan #side"))
    (away,) = state.apply(parse(":irc 301 tina ivan :gone fishing"))
    assert isinstance(invited, ev.Numeric) and invited.text == "You invited ivan to #side"
    assert isinstance(away, ev.Numeric) and away.text == "ivan is away: gone fishing"


def test_backfilled_history_goes_above_the_join() -> None:
    """History arrives after the JOIN, topic and names; it is put where its time
    says, and the conversation is marked for a redraw."""
    s = ChatSession("alice")
    later = NOW.replace(minute=30)
    s.apply(ev.Join("alice", "#lobby", own=True, time=later))
    s.apply(ev.Names("#lobby", ("@bob", "alice"), time=later))
    conv = s.current
    assert not conv.reordered
    for minute, text in ((5, "first"), (6, "second")):
        s.apply(
            said("bob", "#lobby", text, history=True, msgid=text, time=NOW.replace(minute=minute))
        )
    assert conv.reordered and conv.unread == 0
    s.apply(said("bob", "#lobby", "now", time=later))
    assert texts(s, "#lobby") == [
        "<bob> first",
        "<bob> second",
        "-- You have joined #lobby",
        "-- 2 here: @bob, alice",
        "<bob> now",
    ]


def test_close_removes_a_conversation() -> None:
    s = ChatSession("alice")
    s.apply(ev.Join("alice", "#lobby", own=True, time=NOW))
    outcome, _ = s.submit("/close off to bed")
    assert [str(m) for m in outcome.send] == ["PART #lobby :off to bed"]
    assert s.get("#lobby") is None and s.current is s.server
    # The server's PART that follows does not bring the conversation back.
    s.apply(ev.Part("alice", "#lobby", "off to bed", own=True, time=NOW))
    assert s.get("#lobby") is None

    s.apply(ev.Join("alice", "#gone", own=True, time=NOW))
    s.apply(ev.Kick("#gone", "alice", "bob", "", own=True, time=NOW))
    s.switch("#gone")
    outcome, _ = s.submit("/close")
    assert outcome.send == [] and s.get("#gone") is None  # not in it: no PART

    s.open("bob", switch=True)
    outcome, _ = s.submit("/close")
    assert outcome.send == [] and s.get("bob") is None
    outcome, added = s.submit("/close")
    assert outcome.close is None and "stays open" in added[0][1].text
