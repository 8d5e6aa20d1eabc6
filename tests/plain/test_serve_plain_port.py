"""``hubbub serve --plain-port PORT`` as the README tells a newcomer: the real
command in its own process, an nc-style client and an IRC client on it."""

from __future__ import annotations

from pathlib import Path

from harness import ServeProcess, free_port, join_all
from plainclient import PlainClient


async def test_serve_with_plain_port(tmp_path: Path) -> None:
    port = free_port()
    async with ServeProcess.on_free_ports(tmp_path, "--plain-port", str(port)) as serve:
        irc = await serve.client("bob")
        await join_all("#lobby", irc)
        plain = await PlainClient.named(port, "alice")
        try:
            await plain.send(b"hello irc\r\n")
            said = await irc.expect("PRIVMSG")
            assert said.params == ["#lobby", "hello irc"]
            await irc.send("PRIVMSG #lobby :hello nc")
            await plain.expect("bob: hello nc")
        finally:
            await plain.close()
        assert await serve.stop() == 0
        # (the banner is on stdout, a file here: complete once the process ended)
        assert f"plain chat on 127.0.0.1:{port}  connect: nc 127.0.0.1 {port}" in serve.output
