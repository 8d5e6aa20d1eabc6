"""Soak test: thousands of IRC clients chatting for a long time against one server.

Not part of the unit suite. Each client registers, joins one of ``--channels``
channels, then sends a PRIVMSG every ``--interval`` seconds on average (with
jitter), answers PINGs and reads everything. Every ``--report`` seconds one
line goes to stdout: elapsed time, clients connected, messages sent and
received, unexpected disconnects, and the server's RSS (``--server-pid``, or
the server this script started with ``--start-server``). A JSON summary is
written at the end (``--json``).

    python bench/soak.py --start-server --clients 2000 --duration 600
    python bench/soak.py --host 127.0.0.1 --port 6667 --server-pid 1234 --duration 60

Traffic goes to the address given (127.0.0.1 by default) only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


def rss_kib(pid: int) -> int | None:
    """Resident set size of ``pid`` in KiB, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def raise_nofile(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(hard, max(soft, wanted)) if hard != resource.RLIM_INFINITY else max(soft, wanted)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


@dataclass
class Stats:
    connected: int = 0
    registered: int = 0
    sent: int = 0
    received_privmsg: int = 0
    received_lines: int = 0
    pings_answered: int = 0
    connect_failures: int = 0
    disconnects: Counter[str] = field(default_factory=Counter)
    # QUITs the chatters saw, by nick: the server's view of who was dropped.
    quits_seen: dict[str, str] = field(default_factory=dict)


class SoakClient:
    """``role``: "chat" (well-behaved), "stall" (never reads after joining),
    "flood" (sends as fast as it can)."""

    def __init__(
        self, index: int, args: argparse.Namespace, stats: Stats, role: str = "chat"
    ) -> None:
        self.role = role
        self.index = index
        self.args = args
        self.stats = stats
        self.nick = f"soak{index}"
        self.channel = f"#soak{index % args.channels}"
        self.stopping = False
        self.stats_seen_welcome = False
        self.writer: asyncio.StreamWriter | None = None

    async def run(self, stop: asyncio.Event) -> None:
        args, stats = self.args, self.stats
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(args.host, args.port, limit=1 << 16), 30
            )
        except (OSError, TimeoutError) as exc:
            stats.connect_failures += 1
            stats.disconnects[f"connect failed: {type(exc).__name__}"] += 1
            return
        self.writer = writer
        stats.connected += 1
        writer.write(
            f"NICK {self.nick}\r\nUSER soak 0 * :soak client\r\nJOIN {self.channel}\r\n".encode()
        )
        talker = asyncio.create_task(self._talk(writer, stop))
        reason = "connection closed by server"
        try:
            while True:
                if self.role == "stall" and stats.registered and self.stats_seen_welcome:
                    await stop.wait()
                    break
                raw = await reader.readline()
                if not raw:
                    break
                stats.received_lines += 1
                line = raw.decode("utf-8", "replace")
                if line.startswith("PING"):
                    writer.write(b"PONG" + raw[4:])
                    stats.pings_answered += 1
                elif " PRIVMSG " in line:
                    stats.received_privmsg += 1
                elif line.startswith(":") and line.split(" ", 2)[1:2] == ["001"]:
                    stats.registered += 1
                    self.stats_seen_welcome = True
                elif " QUIT " in line and line.startswith(":"):
                    nick = line[1:].split("!", 1)[0]
                    stats.quits_seen.setdefault(nick, line.split(" QUIT ", 1)[1].strip()[1:])
                elif line.startswith("ERROR"):
                    reason = "ERROR " + line.strip()[6:][:80]
        except (OSError, ValueError) as exc:
            reason = f"{type(exc).__name__}"
        finally:
            talker.cancel()
            stats.connected -= 1
            if not self.stopping:
                stats.disconnects[f"{self.role}: {reason}"] += 1
            writer.close()

    async def _talk(self, writer: asyncio.StreamWriter, stop: asyncio.Event) -> None:
        args = self.args
        rng = random.Random(self.index)
        await asyncio.sleep(rng.uniform(2, 2 + args.interval))
        n = 0
        if self.role == "flood":
            while not stop.is_set():
                writer.write(f"PRIVMSG {self.channel} :flood {n}\r\n".encode() * 50)
                n += 50
                await writer.drain()
            return
        if self.role == "stall":
            return
        while not stop.is_set():
            n += 1
            writer.write(f"PRIVMSG {self.channel} :message {n} from {self.nick}\r\n".encode())
            self.stats.sent += 1
            await asyncio.sleep(rng.uniform(0.5, 1.5) * args.interval)

    async def quit(self) -> None:
        self.stopping = True
        if self.writer is not None and not self.writer.is_closing():
            with contextlib.suppress(OSError):
                self.writer.write(b"QUIT :soak over\r\n")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(args: argparse.Namespace, workdir: Path) -> subprocess.Popen[bytes]:
    config = workdir / "soak.toml"
    config.write_text(
        f"""
[server]
name = "irc.soak.local"
data_dir = "{workdir / "data"}"

[[listen]]
host = "127.0.0.1"
port = {args.port}

[limits]
max_clients = {args.clients + 100}
"""
    )
    log_path = workdir / "server.log"
    hubbub = os.environ.get("HUBBUB_BIN") or str(Path(sys.executable).parent / "hubbub")
    command = [hubbub, "serve", "--config", str(config), "--log-level", "warning"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((args.host, args.port)) == 0:
                return proc
        if proc.poll() is not None:
            # The work directory is removed on exit, so the log is shown here.
            tail = log_path.read_text(errors="replace").strip().splitlines()[-20:]
            raise SystemExit("\n".join([f"server exited with {proc.returncode}:", *tail]))
        time.sleep(0.1)
    proc.kill()
    proc.wait()
    raise SystemExit("server did not start listening within 30 s")


async def soak(args: argparse.Namespace) -> dict[str, object]:
    stats = Stats()
    stop = asyncio.Event()
    clients = [SoakClient(i, args, stats) for i in range(args.clients)]
    abusers = [SoakClient(args.clients + i, args, stats, "stall") for i in range(args.stalled)]
    abusers += [
        SoakClient(args.clients + args.stalled + i, args, stats, "flood")
        for i in range(args.flooders)
    ]
    tasks: list[asyncio.Task[None]] = []
    samples: list[dict[str, object]] = []
    started = time.monotonic()

    def sample() -> dict[str, object]:
        rss = rss_kib(args.server_pid) if args.server_pid else None
        entry: dict[str, object] = {
            "t": round(time.monotonic() - started, 1),
            "connected": stats.connected,
            "registered": stats.registered,
            "sent": stats.sent,
            "received_privmsg": stats.received_privmsg,
            "unexpected_disconnects": sum(stats.disconnects.values()),
            "server_rss_kib": rss,
        }
        samples.append(entry)
        print(
            f"t={entry['t']:>7}s connected={stats.connected:>5} registered={stats.registered:>5} "
            f"sent={stats.sent:>8} recv={stats.received_privmsg:>9} "
            f"disconnects={entry['unexpected_disconnects']:>4} "
            f"rss={'-' if rss is None else f'{rss / 1024:.1f}MiB'}",
            flush=True,
        )
        return entry

    # Connect at a bounded rate so the accept queue is not the thing measured.
    for client in clients:
        tasks.append(asyncio.create_task(client.run(stop)))
        if len(tasks) % args.connect_batch == 0:
            await asyncio.sleep(0.05)
    sample()
    if abusers:
        await asyncio.sleep(5)
        tasks += [asyncio.create_task(client.run(stop)) for client in abusers]
        clients += abusers
    deadline = started + args.duration
    while (now := time.monotonic()) < deadline:
        await asyncio.sleep(min(args.report, deadline - now))
        sample()
    stop.set()
    for client in clients:
        await client.quit()
    await asyncio.wait(tasks, timeout=10)
    for task in tasks:
        task.cancel()
    final = sample()
    rss_values: list[int] = [
        v for v in (s["server_rss_kib"] for s in samples) if isinstance(v, int)
    ]
    return {
        "clients": args.clients,
        "channels": args.channels,
        "interval": args.interval,
        "duration": args.duration,
        "sent": stats.sent,
        "received_privmsg": stats.received_privmsg,
        "connect_failures": stats.connect_failures,
        "disconnects": dict(stats.disconnects),
        "pings_answered": stats.pings_answered,
        "quits_seen": dict(Counter(stats.quits_seen.values())),
        "rss_kib_first": rss_values[0] if rss_values else None,
        "rss_kib_max": max(rss_values) if rss_values else None,
        "rss_kib_last": rss_values[-1] if rss_values else None,
        "final": final,
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 with --start-server: pick one")
    parser.add_argument("--clients", type=int, default=2000)
    parser.add_argument("--channels", type=int, default=40)
    parser.add_argument("--interval", type=float, default=20.0, help="seconds between messages")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds")
    parser.add_argument("--report", type=float, default=30.0, help="seconds between reports")
    parser.add_argument("--connect-batch", type=int, default=50)
    parser.add_argument("--stalled", type=int, default=0, help="extra clients that never read")
    parser.add_argument("--flooders", type=int, default=0, help="extra clients that flood")
    parser.add_argument("--server-pid", type=int, default=0)
    parser.add_argument("--start-server", action="store_true", help="run hubbub serve ourselves")
    parser.add_argument("--json", type=Path, help="write a JSON summary here")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the soak only talks to a server on this machine")
    raise_nofile(args.clients * 2 + 256)

    if not args.start_server and not args.port:
        parser.error("--port is needed unless --start-server")
    # Config, database and server log live here only while the soak runs;
    # removed on every exit, Ctrl-C, SIGTERM and failures included.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="hubbub-soak-"))
    try:
        summary = run_with_server(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps({k: v for k, v in summary.items() if k != "samples"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))


def _exit_on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM unwinds like Ctrl-C, so the ``finally`` clauses still run."""
    raise SystemExit(128 + signum)


def run_with_server(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    """The soak, against a server started here (``--start-server``) or not;
    a server started here is stopped however the soak ends."""
    proc: subprocess.Popen[bytes] | None = None
    try:
        if args.start_server:
            args.port = args.port or free_port()
            proc = start_server(args, workdir)
            args.server_pid = proc.pid
            print(f"started hubbub (pid {proc.pid}) on port {args.port}", flush=True)
        return asyncio.run(soak(args))
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(10)
                print(f"server exited with status {code}", flush=True)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                print("server did not exit within 10 s of SIGTERM; killed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        print("soak interrupted", file=sys.stderr)
        sys.exit(130)
