"""The web client's files over plain HTTP on the WebSocket listener: security
headers, ETags, no path traversal, and the Origin check on the upgrade.
Raw sockets, so that nothing normalises the paths we send."""

from __future__ import annotations

import asyncio
import json
import re
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from harness import RunningServer, ServerFactory
from hubbub.server.config import ConfigError, parse_config
from hubbub.server.net.webassets import WebAssets, is_loopback_name, origin_allowed
from ircclient import RawClient

WEB = Path(__file__).parents[2] / "src/hubbub/web"
ASSETS = sorted(p.name for p in WEB.iterdir() if p.suffix in (".html", ".js", ".css", ".svg"))


async def http(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    tls: bool = False,
) -> tuple[int, dict[str, str], bytes]:
    context = None
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=context)
    headers = {"Host": f"127.0.0.1:{port}", **(headers or {})}
    lines = [f"{method} {path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    found = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        found[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), found, body


def ws_port(irc: RunningServer) -> int:
    return irc.port("websocket")


async def irc_over_websocket(uri: str, origin: str | None, nick: str) -> str:
    """Register over the WebSocket and return the 001 line."""
    kwargs = {"origin": origin} if origin is not None else {}
    protocols = [Subprotocol("text.ircv3.net")]
    async with ws_connect(uri, subprotocols=protocols, **kwargs) as ws:  # type: ignore[arg-type]
        await ws.send(f"NICK {nick}")
        await ws.send(f"USER {nick} 0 * :{nick}")
        while True:
            line = str(await asyncio.wait_for(ws.recv(), 10))
            if " 001 " in line:
                break
        # QUIT: the server closes, so the closing handshake is quick.
        await ws.send("QUIT")
        async for _ in ws:
            pass
        return line


async def test_page_has_strict_security_headers(irc: RunningServer) -> None:
    port = ws_port(irc)
    status, headers, body = await http(port, "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b"<title>hubbub</title>" in body
    csp = headers["content-security-policy"]
    directives = dict(
        ([*part.strip().split(" ", 1), ""])[:2] for part in csp.split(";") if part.strip()
    )
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == f"'self' ws://127.0.0.1:{port}"
    assert directives["img-src"] == "'self' https: data:"  # [web] remote_avatars defaults on
    assert directives["frame-ancestors"] == "'none'"
    assert directives["require-trusted-types-for"] == "'script'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-cache"
    assert re.fullmatch(r'"[0-9a-f]{20}"', headers["etag"])


def csp_directives(headers: dict[str, str]) -> dict[str, str]:
    policy = headers["content-security-policy"]
    return dict(
        ([*part.strip().split(" ", 1), ""])[:2] for part in policy.split(";") if part.strip()
    )


async def test_remote_avatars_on_allows_https_images_and_tells_the_page(
    irc: RunningServer,
) -> None:
    port = ws_port(irc)
    status, headers, body = await http(port, "/settings.json")
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body) == {"remoteAvatars": True}
    assert csp_directives(headers)["img-src"] == "'self' https: data:"
    assert headers["cache-control"] == "no-cache" and headers["etag"]


async def test_remote_avatars_off_keeps_images_to_the_server_and_data(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(web={"remote_avatars": False})
    port = ws_port(irc)
    for path in ("/", "/app.js", "/settings.json", "/missing"):
        _, headers, _ = await http(port, path)
        directives = csp_directives(headers)
        assert directives["img-src"] == "'self' data:", path
        assert directives["default-src"] == "'none'" and directives["script-src"] == "'self'"
    status, _, body = await http(port, "/settings.json")
    assert status == 200 and json.loads(body) == {"remoteAvatars": False}


def test_the_page_has_no_inline_script_or_style() -> None:
    """What the CSP forbids must not be needed: no inline code at all."""
    html = (WEB / "index.html").read_text()
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\son[a-z]+=", html)
    for path in WEB.glob("*.js"):
        code = path.read_text()
        assert "innerHTML" not in code and "insertAdjacentHTML" not in code
        assert "eval(" not in code and "new Function" not in code


@pytest.mark.parametrize("name", ASSETS)
async def test_every_file_is_served_with_its_type_and_etag(irc: RunningServer, name: str) -> None:
    status, headers, body = await http(ws_port(irc), f"/{name}")
    assert status == 200
    expected = {"html": "text/html", "js": "text/javascript", "css": "text/css", "svg": "image/svg"}
    assert headers["content-type"].startswith(expected[name.rsplit(".", 1)[1]])
    assert int(headers["content-length"]) == len(body) > 0
    assert headers["x-content-type-options"] == "nosniff"


async def test_a_matching_etag_gets_304_without_body(irc: RunningServer) -> None:
    port = ws_port(irc)
    _, headers, _ = await http(port, "/app.js")
    status, again, body = await http(port, "/app.js", headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert again["etag"] == headers["etag"]
    status, _, body = await http(port, "/app.js", headers={"If-None-Match": '"other"'})
    assert status == 200 and body


@pytest.mark.parametrize(
    "path",
    [
        "/../pyproject.toml",
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/pyproject.toml",
        "/%2E%2E%2Fconfig.py",
        "/..%2f..%2fserver%2fconfig.py",
        "/web/../index.html",
        "/./index.html",
        "//etc/passwd",
        "/etc/passwd",
        "/%2fetc%2fpasswd",
        "/..\\..\\pyproject.toml",
        "/__init__.py",
        "/index.html%00.js",
        "http://127.0.0.1/../pyproject.toml",
    ],
)
async def test_path_traversal_finds_nothing(irc: RunningServer, path: str) -> None:
    status, headers, body = await http(ws_port(irc), path)
    assert status == 404
    assert body == b"404 Not Found\n"
    assert "content-security-policy" in headers


async def test_head_answers_without_body_and_post_is_refused(irc: RunningServer) -> None:
    port = ws_port(irc)
    status, headers, body = await http(port, "/", method="HEAD")
    assert status == 200 and body == b"" and int(headers["content-length"]) > 0
    status, headers, _ = await http(port, "/", method="POST")
    assert status == 405 and headers["allow"] == "GET, HEAD"


async def test_cross_site_origin_is_refused_with_403(irc: RunningServer) -> None:
    port = ws_port(irc)
    with pytest.raises(InvalidStatus) as refused:
        await irc_over_websocket(f"ws://127.0.0.1:{port}/", "https://evil.example", "eve")
    assert refused.value.response.status_code == 403
    # A page on the same host but another port is another origin, too.
    with pytest.raises(InvalidStatus) as refused:
        await irc_over_websocket(f"ws://127.0.0.1:{port}/", "http://127.0.0.1:1", "eve")
    assert refused.value.response.status_code == 403
    assert irc.server.world.find_user("eve") is None


async def test_same_origin_and_clients_without_origin_are_accepted(irc: RunningServer) -> None:
    port = ws_port(irc)
    uri = f"ws://127.0.0.1:{port}/"
    line = await irc_over_websocket(uri, f"http://127.0.0.1:{port}", "samesite")
    assert " 001 samesite " in line
    line = await irc_over_websocket(uri, None, "nobrowser")  # a bot, `hubbub chat --websocket`
    assert " 001 nobrowser " in line


async def test_allowed_origins_from_the_config(start_server: ServerFactory) -> None:
    irc = await start_server(web={"allowed_origins": ["https://Chat.Example.org/"]})
    uri = f"ws://127.0.0.1:{ws_port(irc)}/"
    line = await irc_over_websocket(uri, "https://chat.example.org", "listed")
    assert " 001 listed " in line
    with pytest.raises(InvalidStatus) as refused:
        await irc_over_websocket(uri, "https://chat.example.org.evil.example", "unlisted")
    assert refused.value.response.status_code == 403


async def test_web_false_serves_no_files_but_keeps_the_websocket(
    start_server: ServerFactory,
) -> None:
    irc = await start_server(
        listen=[{"host": "127.0.0.1", "port": 0, "websocket": True, "web": False}]
    )  # type: ignore[arg-type]
    port = ws_port(irc)
    status, _, _ = await http(port, "/")
    assert status == 426  # Upgrade Required: a bare IRCv3 WebSocket
    line = await irc_over_websocket(f"ws://127.0.0.1:{port}/", None, "bare")
    assert " 001 bare " in line


async def test_tls_listener_serves_the_page_over_https(start_server: ServerFactory) -> None:
    irc = await start_server(
        listen=[{"host": "127.0.0.1", "port": 0, "websocket": True, "tls": True}]  # type: ignore[arg-type]
    )
    port = next(x.port for x in irc.server.listeners if x.kind == "websocket+tls")
    status, headers, body = await http(port, "/", tls=True)
    assert status == 200 and b"<title>hubbub</title>" in body
    assert f"connect-src 'self' wss://127.0.0.1:{port};" in headers["content-security-policy"]


def test_bad_allowed_origin_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"web\.allowed_origins"):
        parse_config({"web": {"allowed_origins": ["chat.example.org"]}})
    with pytest.raises(ConfigError, match=r"web\.allowed_origins"):
        parse_config({"web": {"allowed_origins": ["https://a.example/path"]}})


def test_lookup_knows_only_its_own_names() -> None:
    assets = WebAssets({"index.html": b"<p>", "app.js": b"x"})
    index = assets.lookup("/")
    assert index is not None and index.body == b"<p>"
    assert assets.lookup("/index.html?v=2") is index
    assert assets.lookup("/app.js#x") is not None
    for path in ("", "app.js", "/../app.js", "/./app.js", "/APP.JS", "/app.js/"):
        assert assets.lookup(path) is None, path


def test_origin_rules() -> None:
    host = "127.0.0.1:8097"
    assert origin_allowed(None, host, False, [])  # not a browser
    assert origin_allowed("http://127.0.0.1:8097", host, False, [])
    assert origin_allowed("HTTP://127.0.0.1:8097/", host, False, [])
    assert not origin_allowed("https://127.0.0.1:8097", host, False, [])  # scheme differs
    assert not origin_allowed("http://127.0.0.1:8097", host, True, [])  # page was https
    assert not origin_allowed("http://localhost:8097", host, False, [])
    assert not origin_allowed("null", host, False, [])  # sandboxed frames, file:// pages
    assert not origin_allowed("http://127.0.0.1:8097", None, False, [])
    assert origin_allowed("https://chat.example.org", host, False, ["https://chat.example.org"])


def test_hubbub_serve_prints_the_web_address_and_serves_it(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hubbub",
            "serve",
            "--data-dir",
            str(tmp_path / "data"),
            "--listen",
            "127.0.0.1:0",
            "--ws-listen",
            "127.0.0.1:0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        address = None
        for line in proc.stdout:
            found = re.search(r"web client: open (http://127\.0\.0\.1:(\d+)/)", line)
            if found:
                address = found
                break
        assert address is not None, "no web address in the banner"
        status, _, body = asyncio.run(http(int(address[2]), "/"))
        assert status == 200 and b"<title>hubbub</title>" in body
    finally:
        proc.terminate()
        proc.wait(10)


async def test_dns_rebinding_page_is_refused_on_a_loopback_listener(irc: RunningServer) -> None:
    """evil.example resolved to 127.0.0.1: Origin and Host agree, but the name
    is not a loopback one, so the upgrade is refused."""
    port = ws_port(irc)
    status, _, _ = await http(
        port,
        "/",
        headers={
            "Host": f"evil.example:{port}",
            "Origin": f"http://evil.example:{port}",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    assert status == 403
    line = await irc_over_websocket(f"ws://localhost:{port}/", f"http://localhost:{port}", "lh")
    assert " 001 lh " in line


def test_loopback_names() -> None:
    for name in ("localhost", "LOCALHOST:8097", "127.0.0.1", "127.0.0.1:8097", "[::1]:8097", "::1"):
        assert is_loopback_name(name), name
    for name in (
        "evil.example",
        "evil.example:8097",
        "127.0.0.1.evil.example",
        "[::2]:1",
        "0.0.0.0",
    ):
        assert not is_loopback_name(name), name
    host = "evil.example:8097"
    assert not origin_allowed("http://evil.example:8097", host, False, [], loopback_only=True)
    assert origin_allowed("http://evil.example:8097", host, False, [], loopback_only=False)
    listed = ["http://evil.example:8097"]
    assert origin_allowed("http://evil.example:8097", host, False, listed, loopback_only=True)


async def test_page_loads_do_not_use_up_the_connection_throttle(
    start_server: ServerFactory,
) -> None:
    """A page load is about ten HTTP requests; with the throttle at 3 per
    window they must not lock the browser's own WebSocket (or anyone on the
    same IP) out. Chat connections are still throttled."""
    irc = await start_server(limits={"throttle": True, "exempt": [], "throttle_connections": 3})
    port = ws_port(irc)
    for name in ASSETS * 2:
        status, _, _ = await http(port, f"/{name}")
        assert status == 200, name
    line = await irc_over_websocket(f"ws://127.0.0.1:{port}/", f"http://127.0.0.1:{port}", "web1")
    assert " 001 web1 " in line
    await irc.client("second")
    await irc.client("third")
    refused = await RawClient.connect("127.0.0.1", irc.port())
    error = await refused.expect("ERROR")
    assert "throttled" in error.params[0]
    await refused.close()
