"""``hubbub serve`` on PostgreSQL alone (no cluster): history is written to
and read from PostgreSQL, and no SQLite file is made."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import HOST, ServeProcess, free_port

CAPS = ["message-tags", "server-time", "batch", "draft/chathistory"]


async def test_a_single_server_keeps_its_history_in_postgresql(
    tmp_path: Path, cluster_database: str
) -> None:
    port = free_port()
    config = tmp_path / "hubbub.toml"
    config.write_text(
        f"""
[server]
data_dir = "data"

[[listen]]
host = "{HOST}"
port = {port}

[database]
url = "{cluster_database}"
"""
    )
    serve = ServeProcess(["--config", str(config)], port, tmp_path / "serve.log")
    try:
        await serve.start(timeout=60)
        alice = await serve.client("alice", CAPS)
        bob = await serve.client("bob", CAPS)
        await alice.ask("JOIN #tea")
        await bob.ask("JOIN #tea")
        await alice.send("PRIVMSG #tea :kept in postgresql")
        live = await bob.expect("PRIVMSG")
        await asyncio.sleep(0.5)  # past the flush interval: the batch is in PostgreSQL
        replay = await bob.ask("CHATHISTORY LATEST #tea * 10")
        stored = [m for m in replay if m.command == "PRIVMSG"]
        assert [(m.params, m.tags["msgid"]) for m in stored] == [
            (["#tea", "kept in postgresql"], live.tags["msgid"])
        ]
        assert not (tmp_path / "data" / "hubbub.db").exists()  # nothing went to SQLite
        assert await serve.stop() == 0
    finally:
        serve.kill()
