"""Reading a server's metrics listener over a real socket: raw HTTP GETs and
a parsed /metrics scrape whose samples can be looked up by name and labels."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from hubbub.server.app import Server
from ircclient import TIMEOUT

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


def metrics_port(server: Server) -> int:
    address = server.observability.address
    assert address is not None, "the server has no metrics listener"
    return address[1]


async def http_request(port: int, request: bytes) -> Response:
    """Send ``request`` as is; read the whole answer (the server closes)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Response(status, headers, body)


async def http_get(port: int, path: str, token: str | None = None) -> Response:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\n{auth}\r\n"
    return await http_request(port, request.encode())


async def closed_unanswered(reader: asyncio.StreamReader) -> bool:
    """True when the server closed the connection (EOF or reset) having sent nothing."""
    try:
        return await asyncio.wait_for(reader.read(), TIMEOUT) == b""
    except ConnectionResetError:
        return True


class Samples:
    """One scrape: ``samples.value("hubbub_users")``, with labels as keywords."""

    def __init__(self, text: str) -> None:
        self.values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                self.values[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        assert key in self.values, f"no sample {name}{labels}"
        return self.values[key]

    def names(self) -> set[str]:
        return {name for name, _ in self.values}


async def scrape(server: Server, token: str | None = None) -> Samples:
    response = await http_get(metrics_port(server), "/metrics", token)
    assert response.status == 200, response
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return Samples(response.body.decode())


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample changed between two scrapes."""
    return after.value(name, **labels) - before.value(name, **labels)
