"""The phases of one run: connect -> join -> warmup -> measure -> drain.
Only the measure phase counts towards rates, latency and CPU figures."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from time import monotonic_ns
from typing import TypeVar

from hubbub.bench import procfs
from hubbub.bench.client import BenchClient
from hubbub.bench.connector import Connector
from hubbub.bench.options import BenchOptions, OptionError, Scenario
from hubbub.bench.plan import channel_name, plan_senders
from hubbub.bench.progress import Progress
from hubbub.bench.report import EXIT_DISCONNECTED, EXIT_OK, EXIT_SETUP_FAILED, Result
from hubbub.bench.sender import Sender
from hubbub.bench.session import Session

_NS = 1_000_000_000
N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Counters at a phase boundary; a rate is the difference of two."""

    t: int
    sent: int
    delivered: int
    gen_cpu: float
    server_cpu: float | None
    machine_busy: float | None


class SetupFailed(Exception):
    """Not every client could register or join."""


class Runner:
    def __init__(self, opts: BenchOptions, progress: Progress | None = None) -> None:
        self.opts = opts
        self.progress = progress
        self.session = Session(login=opts.login)
        self.phase = "connect"
        self.senders: list[Sender] = []
        self.clients: list[BenchClient] = []
        self.connector: Connector | None = None
        self.start: Snapshot | None = None
        self.end: Snapshot | None = None
        self.reg_time_s: float | None = None
        self.join_time_s: float | None = None
        self.rss: dict[str, int | None] = {}
        self.setup_failed = False
        self.server_died = False

    async def run(self) -> Result:
        opts = self.opts
        addrs = [_resolve(opts.host, port) for port in opts.ports]
        limit = procfs.raise_fd_limit(opts.clients + 64)
        if limit < opts.clients + 64:
            raise OptionError(
                f"{opts.clients} clients need {opts.clients + 64} file descriptors, "
                f"the limit is {limit} (ulimit -n)"
            )
        self.rss["base"] = self._rss()
        phases = asyncio.create_task(self._phases(addrs))
        helpers = [asyncio.create_task(self._watch_server(phases))]
        if self.progress is not None:
            helpers.append(asyncio.create_task(self._show_progress()))
        try:
            await phases
        except SetupFailed as exc:
            self.session.note(str(exc))
            self.setup_failed = True
        except asyncio.CancelledError:
            if not self.server_died:
                raise
        finally:
            self.session.finished = True
            self.session.sending = False
            for task in helpers:
                task.cancel()
            if self.progress is not None:
                self.progress.done()
            for client in self.clients:
                client.close()
        if self.start is not None and self.end is None:
            self.end = self._snapshot()
        return self._result()

    # phases -----------------------------------------------------------

    async def _phases(self, addrs: list[tuple[str, int]]) -> None:
        opts = self.opts
        if opts.scenario is Scenario.CONNECT:
            self.start = self._snapshot()
        await self._connect(addrs)
        if opts.scenario is Scenario.CONNECT:
            self.end = self._snapshot()
            self.rss["start"] = self._rss()
            return
        if opts.scenario in (Scenario.FANOUT, Scenario.IDLE):
            await self._join()
        self.rss["start"] = self._rss()
        if opts.scenario is Scenario.IDLE:
            await self._measure()
            return
        self.session.sending = True
        self._wire_senders()
        loops = [asyncio.create_task(self._open_loop() if opts.rate > 0 else self._stall_check())]
        try:
            self.phase = "warmup"
            await asyncio.sleep(opts.warmup)
            await self._measure()
        finally:
            self.session.sending = False
            for task in loops:
                task.cancel()
        self.phase = "drain"
        deadline = monotonic_ns() + int(opts.drain_timeout * _NS)
        while self.session.delivered < self.session.expected and monotonic_ns() < deadline:
            await asyncio.sleep(0.01)

    async def _connect(self, addrs: list[tuple[str, int]]) -> None:
        self.connector = connector = Connector(self.opts, self.session, addrs)
        try:
            async with asyncio.timeout(self.opts.setup_timeout):
                await connector.run()
        except TimeoutError:
            raise SetupFailed(
                f"registration timed out: {self.session.registered} registered, "
                f"{connector.in_flight} in progress"
            ) from None
        finally:
            self.clients = [c for c in connector.clients if c is not None]
            self.reg_time_s = (monotonic_ns() - connector.first_connect) / _NS
        if self.session.failed or len(self.clients) < self.opts.clients:
            raise SetupFailed(f"only {len(self.clients)} of {self.opts.clients} clients registered")

    async def _join(self) -> None:
        self.phase = "join"
        started = monotonic_ns()
        gate = asyncio.Semaphore(self.opts.join_window)

        async def join(client: BenchClient) -> None:
            async with gate:
                await client.join(channel_name(client.index % self.opts.channels))
                self.session.joined += 1

        try:
            async with asyncio.timeout(self.opts.setup_timeout):
                await asyncio.gather(*(join(c) for c in self.clients))
        except (TimeoutError, asyncio.CancelledError):
            if self.server_died:
                raise
            raise SetupFailed(
                f"join failed: {self.session.joined} of {self.opts.clients} joined"
            ) from None
        self.join_time_s = (monotonic_ns() - started) / _NS

    async def _measure(self) -> None:
        self.phase = "measure"
        self.start = self._snapshot()
        self.session.measuring = True
        try:
            await asyncio.sleep(self.opts.duration)
        finally:
            self.session.measuring = False
            self.end = self._snapshot()
            self.rss["end"] = self._rss()
            self.rss["hwm"] = self._status("VmHWM")

    def _wire_senders(self) -> None:
        """Create the senders and hand each to its writer and its observer."""
        by_index = {c.index: c for c in self.clients}
        for plan in plan_senders(self.opts):
            sender = Sender(
                self.session,
                plan.index,
                plan.target,
                plan.recipients,
                self.opts.msg_size,
                self.opts.window,
            )
            sender.writer = by_index[plan.index]
            self.senders.append(sender)
            if self.opts.closed_loop:
                observer = by_index[plan.observer]
                observer.observed = observer.observed or {}
                observer.observed[str(plan.index).encode()] = sender
        if self.opts.closed_loop:
            for client in self.clients:
                self._simplify_observer(client)
            now = monotonic_ns()
            for sender in self.senders:
                sender.last_progress = now
                sender.fill(now)

    def _simplify_observer(self, client: BenchClient) -> None:
        """Use the plain message count as credit when every message this
        client receives comes from the one sender it observes."""
        observed = client.observed
        if observed is None or len(observed) != 1:
            return
        (sender,) = observed.values()
        if self.opts.scenario is Scenario.DIRECT:
            client.credit, client.observed = sender, None
            return
        channel = client.index % self.opts.channels
        peers = [s for s in self.senders if s.index % self.opts.channels == channel]
        if [s.index for s in peers if s.index != client.index] == [sender.index]:
            client.credit, client.observed = sender, None

    async def _open_loop(self) -> None:
        """Send ``rate`` messages/s round robin, each stamped with its
        scheduled time so queueing anywhere shows up as latency."""
        senders = self.senders
        if not senders:
            return
        interval = _NS / self.opts.rate
        started = monotonic_ns()
        scheduled = 0
        turn = 0
        while True:
            due = int((monotonic_ns() - started) / interval)
            batches: dict[int, list[int]] = {}
            while scheduled < due:
                scheduled += 1
                index, turn = turn, (turn + 1) % len(senders)
                writer = senders[index].writer
                if writer is not None and writer.backlog() > self.opts.max_backlog:
                    self.session.skipped += 1
                    continue
                batches.setdefault(index, []).append(started + int(scheduled * interval))
            for index, stamps in batches.items():
                senders[index].send(stamps)
            await asyncio.sleep(0.001)

    async def _stall_check(self) -> None:
        stall_ns = int(self.opts.stall_timeout * _NS)
        while True:
            await asyncio.sleep(0.1)
            now = monotonic_ns()
            for sender in self.senders:
                if sender.reset_if_stalled(now, stall_ns):
                    self.session.window_resets += 1
                    self.session.note(f"sender {sender.index}: no credit back, window reset")

    # helpers ----------------------------------------------------------

    async def _watch_server(self, phases: asyncio.Task[None]) -> None:
        pids = self.opts.server_pids
        if not pids:
            return
        while all(procfs.alive(pid) for pid in pids):
            await asyncio.sleep(0.1)
        self.server_died = True
        dead = [pid for pid in pids if not procfs.alive(pid)]
        self.session.note(f"server process {dead[0]} has exited (phase {self.phase})")
        phases.cancel()

    async def _show_progress(self) -> None:
        assert self.progress is not None
        session = self.session
        last = (monotonic_ns(), session.sent, session.delivered)
        latency = session.latency.copy()
        while True:
            await asyncio.sleep(1)
            now = (monotonic_ns(), session.sent, session.delivered)
            dt = (now[0] - last[0]) / _NS
            window = self.connector.window.size if self.connector else 0
            p99 = session.latency.since(latency).percentile(0.99)
            rss = self._rss()
            self.progress.show(
                f"[{self.phase}] registered {session.registered}/{self.opts.clients} "
                f"(window {window}) joined {session.joined} "
                f"sent/s {(now[1] - last[1]) / dt:,.0f} "
                f"deliveries/s {(now[2] - last[2]) / dt:,.0f}"
                + (f" p99_ms {p99 / 1e6:.1f}" if p99 is not None else "")
                + (f" rss_kb {rss}" if rss is not None else "")
            )
            last = now
            latency = session.latency.copy()

    def _snapshot(self) -> Snapshot:
        return Snapshot(
            monotonic_ns(),
            self.session.sent,
            self.session.delivered,
            procfs.self_cpu_seconds(),
            _total([procfs.cpu_seconds(pid) for pid in self.opts.server_pids]),
            procfs.machine_busy_seconds(),
        )

    def _status(self, key: str) -> int | None:
        """The sum over the server processes (several: the nodes of a cluster)."""
        return _total([procfs.status_kb(pid, key) for pid in self.opts.server_pids])

    def _rss(self) -> int | None:
        return self._status("VmRSS")

    def _result(self) -> Result:
        opts, session = self.opts, self.session
        if "end" not in self.rss:
            self.rss["end"] = self._rss()
            self.rss["hwm"] = self._status("VmHWM")
        start, end = self.start, self.end
        secs = (end.t - start.t) / _NS if start and end else 0.0
        secs = max(secs, 1e-9)
        sent = end.sent - start.sent if start and end else 0
        delivered = end.delivered - start.delivered if start and end else 0
        gen_cpu = end.gen_cpu - start.gen_cpu if start and end else 0.0
        srv_cpu = None
        if start and end and start.server_cpu is not None and end.server_cpu is not None:
            srv_cpu = end.server_cpu - start.server_cpu
        other_cpu = None
        if start and end and start.machine_busy is not None and end.machine_busy is not None:
            other_cpu = max(end.machine_busy - start.machine_busy - gen_cpu - (srv_cpu or 0), 0)
        hist = session.registration if opts.scenario is Scenario.CONNECT else session.latency
        base, rss_end = self.rss.get("base"), self.rss.get("end")
        messaging = opts.scenario in (Scenario.FANOUT, Scenario.DIRECT)
        exit_code = EXIT_OK
        if session.disconnects or self.server_died:
            exit_code = EXIT_DISCONNECTED
        elif self.setup_failed or (messaging and delivered == 0):
            exit_code = EXIT_SETUP_FAILED
        fanout = (
            sum(s.recipients for s in self.senders) / len(self.senders) if self.senders else 0.0
        )
        reg_s = self.reg_time_s
        return Result(
            scenario=str(opts.scenario),
            clients=opts.clients,
            channels=opts.channels,
            senders=opts.sender_count,
            rate=opts.rate,
            window=opts.window,
            msg_size=opts.msg_size,
            duration_s=round(secs, 3),
            sent_per_s=round(sent / secs, 1) if messaging else 0.0,
            deliveries_per_s=round(delivered / secs, 1) if messaging else 0.0,
            fanout=round(fanout, 2),
            p50_ms=_ms(hist.percentile(0.50)),
            p90_ms=_ms(hist.percentile(0.90)),
            p99_ms=_ms(hist.percentile(0.99)),
            max_ms=_ms(float(hist.max)) if hist.count else None,
            latency_samples=hist.samples,
            reg_per_s=round(session.registered / reg_s, 1) if reg_s else 0.0,
            reg_time_s=round(reg_s, 3) if reg_s is not None else None,
            join_time_s=round(self.join_time_s, 3) if self.join_time_s is not None else None,
            rss_kb_base=base,
            rss_kb_start=self.rss.get("start"),
            rss_kb_end=rss_end,
            hwm_kb_end=self.rss.get("hwm"),
            rss_kb_per_client=(
                round((rss_end - base) / opts.clients, 2)
                if base is not None and rss_end is not None
                else None
            ),
            server_cpu_s=round(srv_cpu, 2) if srv_cpu is not None else None,
            server_cpu_pct=round(100 * srv_cpu / secs, 1) if srv_cpu is not None else None,
            gen_cpu_s=round(gen_cpu, 2),
            gen_cpu_pct=round(100 * gen_cpu / secs, 1),
            other_cpu_s=round(other_cpu, 2) if other_cpu is not None else None,
            sent_total=session.sent,
            delivered_total=session.delivered,
            expected_total=session.expected,
            lost=max(session.expected - session.delivered, 0),
            window_resets=session.window_resets,
            skipped=session.skipped,
            conn_window_max=self.connector.window.peak if self.connector else 0,
            conn_window_cuts=self.connector.window.cuts if self.connector else 0,
            connect_retries=session.connect_retries,
            registered=session.registered,
            failed=session.failed,
            errors=session.errors,
            disconnects=session.disconnects,
            server_died=self.server_died,
            exit=exit_code,
        )


def _total(readings: list[N | None]) -> N | None:
    """The sum of every process's reading; None when there are none or one is missing."""
    if not readings or any(r is None for r in readings):
        return None
    return sum(r for r in readings if r is not None)


def _ms(ns: float | None) -> float | None:
    return round(ns / 1e6, 3) if ns is not None else None


def _resolve(host: str, port: int) -> tuple[str, int]:
    try:
        infos = socket.getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OptionError(f"--host {host}: {exc.strerror}") from None
    address = infos[0][4]
    return str(address[0]), int(address[1])
