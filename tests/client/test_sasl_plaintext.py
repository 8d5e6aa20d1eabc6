"""The client never hands the account password to an unencrypted connection
to another machine: SCRAM-SHA-256 there, else a refusal (unless the user
insists). A real hubbub server on a non-loopback address, and a recording
server standing in for an eavesdropped or hostile one."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from libpeers import PeerFactory, client_config, settle

from hubbub.client import Client, Error, EventStream, Numeric, Raw
from hubbub.client.client import MAX_SASL_CHALLENGE
from hubbub.client.scram import MAX_ITERATIONS, ScramClient, ScramError
from hubbub.client.transport import is_confidential

PASSWORD = "correct-horse-battery"

# RFC 7677, section 3: the SCRAM-SHA-256 example exchange.
RFC_NONCE = "rOprNGfwEbeRWgbNEkqO"
RFC_SERVER_FIRST = (
    b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
)
RFC_CLIENT_FINAL = (
    b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    b"p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
)
RFC_SERVER_FINAL = b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


# ------------------------------------------------------------------ units


def test_scram_client_matches_rfc_7677_example() -> None:
    scram = ScramClient("user", "pencil", nonce=RFC_NONCE)
    assert scram.first() == b"n,,n=user,r=" + RFC_NONCE.encode()
    assert scram.final(RFC_SERVER_FIRST) == RFC_CLIENT_FINAL
    scram.verify(RFC_SERVER_FINAL)  # raises if the server's signature is wrong


def test_scram_client_rejects_a_forged_server_signature() -> None:
    scram = ScramClient("user", "pencil", nonce=RFC_NONCE)
    scram.final(RFC_SERVER_FIRST)
    forged = b"v=" + base64.b64encode(b"\0" * 32)
    with pytest.raises(ScramError, match="does not know the password"):
        scram.verify(forged)


@pytest.mark.parametrize(
    ("server_first", "complaint"),
    [
        # A man in the middle lowering the cost of brute-forcing our proof offline.
        (b"r=" + RFC_NONCE.encode() + b"xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1", "iterations"),
        # ... or making us spin for ever.
        (
            b"r=" + RFC_NONCE.encode() + b"xyz,s=W22ZaJ0SNY7soEsUEjb6gQ==,i="
            + str(MAX_ITERATIONS + 1).encode(),
            "iterations",
        ),
        (b"r=someone-elses-nonce,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce"),
        (b"r=" + RFC_NONCE.encode() + b",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "nonce"),
        (b"r=" + RFC_NONCE.encode() + b"xyz,s=***,i=4096", "salt"),
        (b"garbage", "malformed"),
    ],
    ids=["too-few-iterations", "too-many-iterations", "foreign-nonce", "unextended-nonce",
         "bad-salt", "garbage"],
)  # fmt: skip
def test_scram_client_refuses_unsafe_challenges(server_first: bytes, complaint: str) -> None:
    with pytest.raises(ScramError, match=complaint):
        ScramClient("user", "pencil", nonce=RFC_NONCE).final(server_first)


def test_only_tls_or_loopback_is_confidential() -> None:
    assert is_confidential(True, ("192.0.2.7", 6697))
    assert is_confidential(False, ("127.0.0.1", 6667))
    assert is_confidential(False, ("::1", 6667, 0, 0))
    assert not is_confidential(False, ("192.0.2.7", 6667))
    assert not is_confidential(False, ("fd00::2", 6667, 0, 0))
    assert not is_confidential(False, None)


# ------------------------------------------------------- a real hubbub server


@pytest.mark.parametrize("allow_plaintext", [False, True], ids=["default", "plain-allowed"])
async def test_login_over_plaintext_to_another_machine_uses_scram(
    start_server,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    allow_plaintext: bool,
    non_loopback_address: str,
) -> None:
    """Even with PLAIN allowed, SCRAM is preferred wherever the server has it."""
    address = non_loopback_address
    listen = [{"host": "127.0.0.1", "port": 0}, {"host": address, "port": 0}]
    irc = await start_server(listen=listen)
    local_port = irc.server.listeners[0].port
    outside_port = next(x.port for x in irc.server.listeners if x.host == address)
    owner = Client(client_config(local_port, "rosa", tmp_path))
    await owner.connect()
    owner.send_raw(f"REGISTER * * {PASSWORD}")
    await owner.events().wait_for(Numeric, lambda e: e.code == "900")
    await owner.quit()

    config = client_config(
        outside_port,
        "visitor",
        tmp_path,
        sasl_account="rosa",
        sasl_password=PASSWORD,
        allow_plaintext_password=allow_plaintext,
    )
    config.host = address
    member = Client(config)
    lines = member.subscribe(raw=True)
    await member.connect()
    logged_in = await member.events().wait_for(Numeric, lambda e: e.code == "900")
    assert "rosa" in logged_in.params
    # The server refuses PLAIN from a non-loopback plaintext peer: only a
    # SCRAM exchange (a server challenge carrying our nonce) can have logged us in.
    assert any(challenge.startswith(b"r=") for challenge in await _challenges(lines))
    await member.quit()
    await settle(irc.server)


# ------------------------------------------- a server that offers only PLAIN


class RecordingServer:
    """Plays an IRC server offering SASL PLAIN only, and keeps every byte the
    client sends: what an eavesdropper on the wire would get."""

    def __init__(self) -> None:
        self.received = b""
        self.quit = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        while line := await reader.readline():
            self.received += line
            words = line.decode().split()
            if words[:2] == ["CAP", "LS"]:
                send(":fake.example CAP * LS :sasl=PLAIN")
            elif words[:2] == ["CAP", "REQ"]:
                send(":fake.example CAP * ACK :" + " ".join(words[2:]).lstrip(":"))
            elif words[:2] == ["AUTHENTICATE", "PLAIN"]:
                send("AUTHENTICATE +")
            elif words[:1] == ["AUTHENTICATE"]:
                send(":fake.example 904 * :SASL authentication failed")
            elif words[:2] == ["CAP", "END"]:
                send(":fake.example 001 visitor :Welcome")
            elif words[:1] == ["QUIT"]:
                self.quit.set()
                break
            await writer.drain()
        writer.close()


@pytest.fixture
async def plain_only(
    non_loopback_address: str,
) -> AsyncIterator[tuple[RecordingServer, str, int]]:
    address = non_loopback_address
    recorder = RecordingServer()
    server = await asyncio.start_server(recorder.handle, address, 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield recorder, address, port


async def test_password_is_not_sent_where_only_plain_is_offered(
    plain_only: tuple[RecordingServer, str, int], tmp_path: Path
) -> None:
    recorder, address, port = plain_only
    config = client_config(port, "visitor", tmp_path, sasl_account="rosa", sasl_password=PASSWORD)
    config.host = address
    client = Client(config)
    errors = client.subscribe()
    with pytest.raises(ConnectionError, match="Not sending the password"):
        await client.connect()
    refusal = await errors.wait_for(Error)
    assert refusal.fatal and "--allow-plaintext-password" in refusal.message
    await asyncio.wait_for(recorder.quit.wait(), 5)
    secret = base64.b64encode(f"rosa\0rosa\0{PASSWORD}".encode())
    assert secret not in recorder.received and PASSWORD.encode() not in recorder.received
    assert b"AUTHENTICATE" not in recorder.received


async def test_password_goes_in_clear_only_when_the_user_insists(
    plain_only: tuple[RecordingServer, str, int], tmp_path: Path
) -> None:
    recorder, address, port = plain_only
    config = client_config(
        port,
        "visitor",
        tmp_path,
        sasl_account="rosa",
        sasl_password=PASSWORD,
        allow_plaintext_password=True,
    )
    config.host = address
    client = Client(config)
    await client.connect()
    await client.quit()
    assert b"AUTHENTICATE " + base64.b64encode(f"rosa\0rosa\0{PASSWORD}".encode()) in (
        recorder.received
    )


async def test_loopback_login_still_uses_plain(irc: object, peer: PeerFactory) -> None:
    owner = await peer("lena")
    owner.send_raw(f"REGISTER * * {PASSWORD}")
    await owner.events().wait_for(Numeric, lambda e: e.code == "900")
    await owner.quit()
    config = client_config(
        irc.port(),  # type: ignore[attr-defined]
        "back",
        owner.config.config_dir,
        sasl_account="lena",
        sasl_password=PASSWORD,
    )
    member = Client(config)
    lines = member.subscribe(raw=True)
    await member.connect()
    assert await _challenges(lines) == [b""]  # PLAIN: one empty challenge, no SCRAM
    await member.quit()


async def _challenges(lines: EventStream) -> list[bytes]:
    """The server's AUTHENTICATE challenges, decoded, up to the login (900)."""
    found: list[bytes] = []
    async for event in lines:
        if isinstance(event, Raw) and event.message.command == "AUTHENTICATE":
            param = event.message.params[0]
            found.append(b"" if param == "+" else base64.b64decode(param))
        if isinstance(event, Raw) and event.message.command == "900":
            return found
    raise AssertionError("the client closed before logging in")


class EndlessChallengeServer:
    """Offers SCRAM only, then answers the client-first message with a
    challenge that never ends (every chunk a full 400 bytes)."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def send(line: str) -> None:
            writer.write(line.encode() + b"\r\n")

        while line := await reader.readline():
            text = line.decode().strip()
            self.received.append(text)
            if text.startswith("CAP LS"):
                send(":fake.example CAP * LS :sasl=SCRAM-SHA-256")
            elif text.startswith("CAP REQ"):
                send(":fake.example CAP * ACK :sasl")
            elif text == "AUTHENTICATE SCRAM-SHA-256":
                send("AUTHENTICATE +")
            elif text.startswith("AUTHENTICATE ") and text != "AUTHENTICATE *":
                for _ in range(MAX_SASL_CHALLENGE // 400 + 2):
                    send("AUTHENTICATE " + "A" * 400)
            await writer.drain()
        writer.close()


async def test_endless_sasl_challenge_is_cut_off(tmp_path: Path) -> None:
    hostile = EndlessChallengeServer()
    server = await asyncio.start_server(hostile.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        config = client_config(
            port, "visitor", tmp_path, sasl_account="rosa", sasl_password=PASSWORD
        )
        client = Client(config)
        errors = client.subscribe()
        with pytest.raises(ConnectionError, match="challenge is too long"):
            await client.connect()
        refusal = await errors.wait_for(Error)
        assert refusal.fatal
    assert "AUTHENTICATE *" in hostile.received  # the exchange was aborted, not left hanging
    assert hostile.received[-1].startswith("QUIT")
