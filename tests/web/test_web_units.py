"""Unit tests of the web client's pure modules (irc.js, sasl.js), run in the
same Chromium: the modules are imported from the server like the page does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from webserver import WebServer

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def js(browser: Any, web: WebServer) -> AsyncIterator[Any]:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(web.url)
    yield page
    await context.close()


async def call(page: Any, module: str, function: str, *args: Any) -> Any:
    return await page.evaluate(
        "async ([module, fn, args]) => (await import(module))[fn](...args)",
        [f"/{module}", function, list(args)],
    )


async def test_parse_line_with_tags_source_and_trailing(js: Any) -> None:
    line = (
        "@time=2026-01-01T00:00:00.000Z;+draft/reply=a\\sb\\:c\\\\;flag;x=end\\ "
        ":nick!user@host privmsg #chan :hello  world "
    )
    assert await call(js, "irc.js", "parseLine", line) == {
        "tags": {
            "time": "2026-01-01T00:00:00.000Z",
            "+draft/reply": "a b;c\\",
            "flag": "",
            "x": "end",
        },
        "source": "nick!user@host",
        "command": "PRIVMSG",
        "params": ["#chan", "hello  world "],
    }
    assert await call(js, "irc.js", "parseLine", "PING  x  :") == {
        "tags": {},
        "source": None,
        "command": "PING",
        "params": ["x", ""],
    }
    assert await call(js, "irc.js", "parseLine", "") is None
    assert await call(js, "irc.js", "parseLine", "@a=b") is None


async def test_build_line_never_lets_a_line_break_through(js: Any) -> None:
    assert (
        await call(js, "irc.js", "buildLine", "PRIVMSG", ["#a", "x\r\nQUIT :bye"])
        == "PRIVMSG #a :x  QUIT :bye"
    )
    assert (
        await call(js, "irc.js", "buildLine", "TAGMSG", ["#a"], {"+draft/react": "a;b c\\"})
        == "@+draft/react=a\\:b\\sc\\\\ TAGMSG #a"
    )
    assert await call(js, "irc.js", "buildLine", "PRIVMSG", ["#a", ":)"]) == "PRIVMSG #a ::)"
    assert await call(js, "irc.js", "buildLine", "PRIVMSG", ["#a", ""]) == "PRIVMSG #a :"
    assert await call(js, "irc.js", "buildLine", "NICK", ["bob"]) == "NICK bob"
    back = await js.evaluate(
        """async () => {
            const irc = await import('/irc.js');
            const tags = {'+draft/reply': 'x; y\\\\z', '+typing': 'active'};
            return irc.parseLine(irc.buildLine('TAGMSG', ['#a'], tags)).tags;
        }"""
    )
    assert back == {"+draft/reply": "x; y\\z", "+typing": "active"}


async def test_casemapping_isupport_prefix_and_caps(js: Any) -> None:
    assert await call(js, "irc.js", "fold", "Nick[]\\~", "rfc1459") == "nick{}|^"
    assert await call(js, "irc.js", "fold", "Nick[]\\~", "ascii") == "nick[]\\~"
    assert await call(
        js, "irc.js", "parseIsupport", ["PREFIX=(ov)@+", "CHANTYPES=#", "NETWORK=a\\x20b"]
    ) == {"PREFIX": "(ov)@+", "CHANTYPES": "#", "NETWORK": "a b"}
    assert await call(js, "irc.js", "parseIsupport", ["-CHANTYPES"], {"CHANTYPES": "#"}) == {}
    assert await call(js, "irc.js", "parsePrefix", "(qov)~@+") == [
        {"mode": "q", "symbol": "~"},
        {"mode": "o", "symbol": "@"},
        {"mode": "v", "symbol": "+"},
    ]
    caps = await js.evaluate(
        "async () => [...(await import('/irc.js')).parseCaps('sasl=PLAIN,SCRAM-SHA-256 batch')]"
    )
    assert caps == [["sasl", "PLAIN,SCRAM-SHA-256"], ["batch", ""]]


async def test_mirc_formatting_runs(js: Any) -> None:
    runs = await call(js, "irc.js", "parseFormatting", "\x02b\x02 \x0304,01r\x03 \x0fx\x07y")
    assert runs == [
        {"text": "b", "bold": True},
        {"text": " ", "bold": False},
        {"text": "r", "bold": False, "fg": 4, "bg": 1},
        {"text": " ", "bold": False},
        {"text": "xy"},
    ]
    assert await call(js, "irc.js", "stripFormatting", "\x0312,15blue\x1d!") == "blue!"


async def test_only_http_links_are_made(js: Any) -> None:
    pieces = await call(
        js, "irc.js", "linkify", "see https://a.example/x). and javascript:alert(1) data:x"
    )
    assert pieces == [
        {"text": "see "},
        {"text": "https://a.example/x", "href": "https://a.example/x"},
        {"text": "). and javascript:alert(1) data:x"},
    ]
    for url in ("javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "vbscript:x"):
        assert await call(js, "irc.js", "safeHref", url) is None
    assert await call(js, "irc.js", "safeHref", "HTTPS://A.example") == "https://a.example/"


async def test_mentions_splitting_and_input(js: Any) -> None:
    assert await call(js, "irc.js", "mentions", "hey Wendy!", "wendy") is True
    assert await call(js, "irc.js", "mentions", "wendybird", "wendy") is False
    assert await call(js, "irc.js", "mentions", "\x02wendy\x02: hi", "wendy") is True
    assert await call(js, "irc.js", "splitBytes", "ééé", 4) == ["éé", "é"]
    assert await call(js, "irc.js", "splitBytes", "", 4) == [""]
    assert await call(js, "irc.js", "parseInput", "/JOIN #a key") == {
        "command": "join",
        "rest": "#a key",
    }
    assert await call(js, "irc.js", "parseInput", "//not a command") is None
    assert await call(js, "irc.js", "isChannel", "#a", "#&") is True
    assert await call(js, "irc.js", "isChannel", "a", "#&") is False


async def test_authenticate_chunks(js: Any) -> None:
    chunks = await js.evaluate(
        """async () => {
            const sasl = await import('/sasl.js');
            return [0, 1, 300, 301].map((n) => sasl.authenticateChunks(new Uint8Array(n)));
        }"""
    )
    assert chunks[0] == ["+"]
    assert chunks[1] == ["AA=="]
    assert [len(c) for c in chunks[2]] == [400, 1]  # exactly 400: a "+" ends it
    assert chunks[2][1] == "+"
    assert [len(c) for c in chunks[3]] == [400, 4]


async def test_scram_sha_256_matches_rfc_7677(js: Any) -> None:
    """The RFC's own exchange: user "user", password "pencil"."""
    result = await js.evaluate(
        """async () => {
            const sasl = await import('/sasl.js');
            const enc = (s) => new TextEncoder().encode(s);
            const dec = (b) => new TextDecoder().decode(b);
            const serverFirst = 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,' +
                's=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096';
            const good = 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=';
            const nonce = 'rOprNGfwEbeRWgbNEkqO';
            const scram = new sasl.ScramClient('user', {password: 'pencil'}, nonce);
            const first = dec(scram.clientFirst());
            const final = dec(await scram.clientFinal(enc(serverFirst)));
            const verified = scram.verify(enc(good));
            const forged = scram.verify(enc('v=AAAA'));
            // The remembered keys log in again without the password.
            const again = new sasl.ScramClient('user', {keys: scram.keys}, nonce);
            const replay = dec(await again.clientFinal(enc(serverFirst)));
            return {first, final, verified, forged, replay, keys: JSON.stringify(scram.keys)};
        }"""
    )
    assert result["first"] == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
    assert result["final"] == (
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
        "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    assert result["verified"] is True and result["forged"] is False
    assert result["replay"] == result["final"]
    assert "pencil" not in result["keys"]


async def test_scram_refuses_a_server_that_changes_the_nonce(js: Any) -> None:
    message = await js.evaluate(
        """async () => {
            const sasl = await import('/sasl.js');
            const scram = new sasl.ScramClient('user', {password: 'pencil'}, 'abc');
            try {
                await scram.clientFinal(new TextEncoder().encode('r=xyz,s=AAAA,i=4096'));
                return 'accepted';
            } catch (error) {
                return error.message;
            }
        }"""
    )
    assert message == "bad SCRAM server-first message"


PNG_DATA = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.mark.parametrize(
    ("value", "remote", "expected"),
    [
        ("https://img.example/a.png", True, "https://img.example/a.png"),
        ("https://IMG.example:8443/a b.png?x=1", True, "https://img.example:8443/a%20b.png?x=1"),
        ("https://img.example/a.png", False, None),  # [web] remote_avatars = false
        (PNG_DATA, True, PNG_DATA),
        (PNG_DATA, False, PNG_DATA),
        ("data:image/webp;base64,UklGRg==", False, "data:image/webp;base64,UklGRg=="),
        ("http://img.example/a.png", True, None),
        ("javascript:alert(1)", True, None),
        ("JavaScript:alert(1)//https://x", True, None),
        ("data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", True, None),
        ("data:image/svg+xml;base64,PHN2Zy8+", True, None),
        ("data:image/png,rawbytes", True, None),
        ("data:image/png;base64,AAAA<script>", True, None),
        ("data:image/png;base64," + "A" * 9000, True, None),  # beyond MAX_DATA_AVATAR
        ("https://user:pw@img.example/a.png", True, None),
        ("https://img.example/" + "a" * 2100, True, None),  # beyond MAX_URL_AVATAR
        ("//img.example/a.png", True, None),
        ("/avatar.png", True, None),
        ("a cat", True, None),
        ("", True, None),
    ],
)
async def test_avatar_source_accepts_https_and_small_data_images_only(
    js: Any, value: str, remote: bool, expected: str | None
) -> None:
    assert await call(js, "avatar.js", "avatarSource", value, {"remote": remote}) == expected


async def test_initials_of_nicks_and_display_names(js: Any) -> None:
    cases = {"alice": "A", "Alice Again": "AA", "[bob]": "B", "élan vital x": "ÉV", "__": "_"}
    for name, expected in cases.items():
        assert await call(js, "avatar.js", "initials", name) == expected, name
