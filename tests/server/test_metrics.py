"""/metrics scraped from a real server while real clients connect, talk, log
in, get banned and get disconnected by flood control: every figure moves by
exactly what the clients did."""

from __future__ import annotations

import base64

from harness import HOST, OPERS, ServerFactory, join_all
from hubbub.server.session import MAX_PARTIAL_BYTES
from ircclient import RawClient
from server.metrics_helpers import Samples, moved, scrape

METRICS = {"listen": "127.0.0.1:0"}


def label_values(samples: Samples) -> set[str]:
    return {value for _, labels in samples.values for _, value in labels}


async def test_traffic_moves_the_figures(start_server: ServerFactory) -> None:
    irc = await start_server(metrics=METRICS)
    before = await scrape(irc.server)

    alice, bob = await irc.in_channel("alice", "bob", channel="#metrics")
    carol = await irc.client("carol")
    secure = await RawClient.connect(HOST, irc.port("tls"), tls=True)
    irc.clients.append(secure)
    await secure.register("sec")
    await irc.websocket("webby")

    for i in range(3):
        await alice.send(f"PRIVMSG #metrics :hello {i}")
    await alice.send("NOTICE #metrics :a notice")
    await alice.send("PRIVMSG bob :psst")
    await alice.send("PRIVMSG carol :psst")
    await alice.send("NOSUCHCOMMAND x")
    await alice.sync()  # every line above was handled before the PONG
    await bob.sync()
    await carol.sync()
    await irc.server.store.flush()
    after = await scrape(irc.server)

    assert moved(before, after, "hubbub_connections_accepted_total", transport="plain") == 3
    assert moved(before, after, "hubbub_connections_accepted_total", transport="tls") == 1
    assert moved(before, after, "hubbub_connections_accepted_total", transport="websocket") == 1
    assert after.value("hubbub_connections", transport="plain") == 3
    assert after.value("hubbub_connections", transport="tls") == 1
    assert after.value("hubbub_connections", transport="websocket") == 1
    assert moved(before, after, "hubbub_client_registrations_total") == 5
    assert after.value("hubbub_users") == 5
    assert after.value("hubbub_channels") == 1

    assert moved(before, after, "hubbub_messages_received_total", kind="privmsg") == 5
    assert moved(before, after, "hubbub_messages_received_total", kind="notice") == 1
    # 3 channel messages to bob, 2 private ones; the notice reached bob
    assert moved(before, after, "hubbub_messages_delivered_total", kind="privmsg") == 5
    assert moved(before, after, "hubbub_messages_delivered_total", kind="notice") == 1
    assert moved(before, after, "hubbub_fanout_recipients_count") == 4
    assert moved(before, after, "hubbub_fanout_recipients_sum") == 4
    assert moved(before, after, "hubbub_fanout_recipients_bucket", le="1.0") == 4
    assert moved(before, after, "hubbub_commands_total", command="JOIN") == 2
    assert moved(before, after, "hubbub_commands_total", command="PRIVMSG") == 5
    assert moved(before, after, "hubbub_commands_total", command="unknown") == 1

    # the 4 channel lines and the 2 JOINs (draft/event-playback) went to
    # history (guests' private ones are not kept), all written now
    assert moved(before, after, "hubbub_history_batch_size_sum") == 6
    batches = moved(before, after, "hubbub_history_batch_size_count")
    assert batches >= 1
    assert moved(before, after, "hubbub_history_write_duration_seconds_count") == batches
    assert after.value("hubbub_history_queue_depth") == 0
    assert after.value("hubbub_store_errors_total") == 0
    assert after.value("hubbub_history_congestions_total") == 0
    assert after.value("python_gc_collections_total", generation="0") > 0

    assert after.value("process_resident_memory_bytes") > 0
    assert after.value("process_open_fds") > 0
    # Nothing names a person or a channel.
    values = label_values(after)
    assert not values & {"alice", "bob", "carol", "sec", "webby", "#metrics"}


async def test_sendq_and_flood_disconnects_are_counted(start_server: ServerFactory) -> None:
    irc = await start_server(
        metrics=METRICS,
        limits={
            "flood_control": True,
            "flood_burst": 20,
            "flood_rate": 1,
            "flood_max_queue": 10,
            "sendq": 4096,
        },
    )
    before = await scrape(irc.server)
    talker, _victim = await irc.in_channel("talker", "victim", channel="#q")
    # 10 lines of 400 bytes in one pass: more than victim's 4096-byte queue
    burst = b"".join(b"PRIVMSG #q :%d %s\r\n" % (i, b"y" * 400) for i in range(10))
    await talker.send_raw(burst)
    quit_ = await talker.expect("QUIT")
    assert quit_.params == ["SendQ exceeded"]

    flooder = await irc.client("flooder")
    await flooder.send_raw(b"".join(b"PING :f%d\r\n" % i for i in range(40)))
    error = await flooder.expect("ERROR")
    assert "Excess Flood" in error.params[0]

    rambler = await irc.client("rambler")
    await rambler.send_raw(b"PRIVMSG #q :" + b"z" * (MAX_PARTIAL_BYTES + 1))
    error = await rambler.expect("ERROR")
    assert "Input line too long" in error.params[0]

    after = await scrape(irc.server)
    assert moved(before, after, "hubbub_sendq_drops_total") == 1
    assert moved(before, after, "hubbub_flood_disconnects_total", reason="excess_flood") == 1
    assert moved(before, after, "hubbub_flood_disconnects_total", reason="input_too_long") == 1
    assert after.value("hubbub_users") == 1  # only talker is left


async def test_sasl_registrations_and_bans_are_counted(
    start_server: ServerFactory, cheap_hashes: None
) -> None:
    irc = await start_server(metrics=METRICS, **OPERS)
    before = await scrape(irc.server)

    await irc.logged_in("dora", "dora-password-1")  # PLAIN, success
    wrong = await irc.client()
    await wrong.send("CAP REQ :sasl")
    await wrong.expect("CAP")
    await wrong.send("AUTHENTICATE PLAIN")
    await wrong.expect("AUTHENTICATE")
    token = base64.b64encode(b"dora\0dora\0not-her-password").decode()
    await wrong.send("AUTHENTICATE " + token)
    assert (await wrong.expect(lambda m: m.command in ("903", "904"))).command == "904"
    await wrong.send("AUTHENTICATE SCRAM-SHA-256")
    await wrong.expect("AUTHENTICATE")
    await wrong.send("AUTHENTICATE *")
    await wrong.expect("906")
    await wrong.send("AUTHENTICATE X-MADE-UP")
    await wrong.expect("904")

    newcomer = await irc.client("newcomer")
    replies = await newcomer.ask("REGISTER * * :newcomer-password-1")
    assert any(m.command == "REGISTER" and m.params[0] == "SUCCESS" for m in replies), replies

    boss = await irc.oper()
    await boss.ask("KLINE 1h *@10.9.9.9 :testing")
    await boss.ask("DLINE 1h 10.9.9.8 :testing")
    await join_all("#banned", boss)
    await boss.ask("MODE #banned +b spam!*@*")
    after = await scrape(irc.server)

    def sasl(mechanism: str, result: str) -> float:
        return moved(
            before, after, "hubbub_sasl_attempts_total", mechanism=mechanism, result=result
        )

    assert sasl("PLAIN", "success") == 1
    assert sasl("PLAIN", "failure") == 1
    assert sasl("SCRAM-SHA-256", "aborted") == 1
    assert sasl("other", "failure") == 1
    assert moved(before, after, "hubbub_account_registrations_total") == 1
    assert moved(before, after, "hubbub_bans_applied_total", kind="kline") == 1
    assert moved(before, after, "hubbub_bans_applied_total", kind="dline") == 1
    assert moved(before, after, "hubbub_bans_applied_total", kind="channel") == 1
    # The made-up mechanism name is not a label: the label set is fixed.
    assert "X-MADE-UP" not in label_values(after)
