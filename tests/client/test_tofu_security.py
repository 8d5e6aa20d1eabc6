"""TLS trust as an attacker would test it: a CA-verified server later
impersonated with a self-signed certificate, a damaged pin file, and the pin
file's own safety (atomic, private). Real TLS servers, real pin files."""

from __future__ import annotations

import json
import os
import ssl
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from certauthority import TestCA
from libpeers import client_config, free_port, make_cert, settle

from hubbub.client import (
    CertificatePinned,
    Client,
    ClientConfig,
    Error,
    PinFileCorrupt,
    PinStore,
    fingerprint,
)
from hubbub.client.tofu import CA_VERIFIED, PIN_FILE


def _der(cert: Path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(cert.read_text())


def _tls(port: int, pins: Path, ca: TestCA | None, verify: str = "auto") -> ClientConfig:
    return client_config(
        port, "secure", pins, tls=True, tls_verify=verify, tls_ca_file=ca and ca.ca_file
    )


async def _serve(start_server, port: int, cert: Path, key: Path):  # type: ignore[no-untyped-def]
    listen = [{"host": "127.0.0.1", "port": port, "tls": True}]
    return await start_server(listen=listen, tls={"cert": cert, "key": key})


async def _stop(server) -> None:  # type: ignore[no-untyped-def]
    await settle(server.server)
    await server.server.stop()


# --------------------------------------------------------------- pin store units


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"127.0.0.1:6697": 42}',
        '{"127.0.0.1:6697": "AB:CD"}',
        b"\xff\xfe\x00garbage",
    ],
    ids=["not-json", "not-an-object", "not-a-string", "not-a-fingerprint", "not-utf8"],
)
def test_damaged_pin_file_is_refused_not_emptied(tmp_path: Path, content: str | bytes) -> None:
    path = tmp_path / PIN_FILE
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    before = path.read_bytes()
    store = PinStore(tmp_path)
    with pytest.raises(PinFileCorrupt) as refused:
        store.get("127.0.0.1:6697")
    assert str(path) in str(refused.value)
    with pytest.raises(PinFileCorrupt):
        store.pin("127.0.0.1:6697", fingerprint(b"cert"))
    assert path.read_bytes() == before  # nothing overwritten


def test_pin_file_written_private_and_whole(tmp_path: Path) -> None:
    store = PinStore(tmp_path / "config")
    store.pin("a:1", fingerprint(b"one"))
    store.pin("b:2", CA_VERIFIED)
    path = tmp_path / "config" / PIN_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"a:1": fingerprint(b"one"), "b:2": "ca"}
    assert sorted(p.name for p in path.parent.iterdir()) == [PIN_FILE]  # no temp file left


def test_pin_file_made_private_even_if_it_was_not(tmp_path: Path) -> None:
    path = tmp_path / PIN_FILE
    path.write_text("{}")
    path.chmod(0o644)
    PinStore(tmp_path).pin("a:1", fingerprint(b"one"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ------------------------------------------------------------ real TLS servers


async def test_ca_verified_server_is_remembered_and_a_self_signed_impostor_refused(
    start_server,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    port, pins = free_port(), tmp_path / "config"
    ca = TestCA(tmp_path / "ca")
    real = await _serve(start_server, port, *ca.issue("real"))
    client = Client(_tls(port, pins, ca))
    await client.connect()
    await client.quit()
    assert json.loads((pins / PIN_FILE).read_text()) == {f"127.0.0.1:{port}": CA_VERIFIED}
    await _stop(real)

    impostor_cert, impostor_key = make_cert(tmp_path / "evil", "impostor")
    await _serve(start_server, port, impostor_cert, impostor_key)
    victim = Client(_tls(port, pins, ca))
    errors = victim.subscribe()
    with pytest.raises(ConnectionError, match="had a CA-signed one before") as refused:
        await victim.connect()
    assert not victim.connected
    assert str(pins / PIN_FILE) in str(refused.value)
    warning = await errors.wait_for(Error)
    assert warning.fatal
    assert json.loads((pins / PIN_FILE).read_text()) == {f"127.0.0.1:{port}": CA_VERIFIED}

    # "tofu" mode does not reopen the door either.
    with pytest.raises(ConnectionError, match="had a CA-signed one before"):
        await Client(_tls(port, pins, ca, verify="tofu")).connect()


async def test_ca_verified_server_may_renew_its_certificate(
    start_server,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    port, pins = free_port(), tmp_path / "config"
    ca = TestCA(tmp_path / "ca")
    first = await _serve(start_server, port, *ca.issue("first"))
    client = Client(_tls(port, pins, ca))
    await client.connect()
    await client.quit()
    await _stop(first)

    await _serve(start_server, port, *ca.issue("renewed"))
    again = Client(_tls(port, pins, ca))
    await again.connect()
    assert again.connected
    await again.quit()


async def test_self_signed_server_that_gets_a_ca_certificate_is_upgraded(
    start_server,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    port, pins = free_port(), tmp_path / "config"
    ca = TestCA(tmp_path / "ca")
    cert, key = make_cert(tmp_path / "self", "self")
    first = await _serve(start_server, port, cert, key)
    client = Client(_tls(port, pins, ca))
    await client.connect()
    news = await client.events().wait_for(CertificatePinned)
    assert news.fingerprint == fingerprint(_der(cert))
    await client.quit()
    await _stop(first)

    await _serve(start_server, port, *ca.issue("proper"))
    again = Client(_tls(port, pins, ca))
    await again.connect()
    await again.quit()
    assert json.loads((pins / PIN_FILE).read_text()) == {f"127.0.0.1:{port}": CA_VERIFIED}


async def test_damaged_pin_file_refuses_tls_instead_of_trusting_anyone(
    start_server,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    port, pins = free_port(), tmp_path / "config"
    cert, key = make_cert(tmp_path / "self", "self")
    await _serve(start_server, port, cert, key)
    pins.mkdir()
    (pins / PIN_FILE).write_text('{"127.0.0.1:1": "AB:CD", truncated')
    client = Client(_tls(port, pins, None))
    errors = client.subscribe()
    with pytest.raises(ConnectionError, match="cannot be used"):
        await client.connect()
    warning = await errors.wait_for(Error)
    assert warning.fatal and str(pins / PIN_FILE) in warning.message
    assert (pins / PIN_FILE).read_text() == '{"127.0.0.1:1": "AB:CD", truncated'


def test_cli_refuses_damaged_pin_file_in_one_line(tmp_path: Path) -> None:
    config_home = tmp_path / "xdg"
    (config_home / "hubbub").mkdir(parents=True)
    (config_home / "hubbub" / PIN_FILE).write_text("{oops")
    env = {**os.environ, "XDG_CONFIG_HOME": str(config_home)}
    result = subprocess.run(
        [sys.executable, "-m", "hubbub", "chat", "--plain", "--tls", f"127.0.0.1:{free_port()}"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "known_servers.json" in lines[0] and "cannot be used" in lines[0]
    assert "Traceback" not in result.stderr
