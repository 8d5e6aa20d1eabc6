"""The servers bench/compare measures: how to install, configure, start
(pinned to a CPU) and stop each one. Standard library only."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hubbub-bench"
MINIIRCD = CACHE / "miniircd-venv" / "bin" / "miniircd"
HUBBUB = REPO / ".venv" / "bin" / "hubbub"
APT_PACKAGES = {"ngircd": "/usr/sbin/ngircd", "inspircd": "/usr/sbin/inspircd"}


def log(message: str) -> None:
    print(f"{Path(sys.argv[0]).name}: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _substitute(template: str, target: Path, port: int, workdir: Path) -> None:
    text = (HERE / "conf" / template).read_text()
    target.write_text(text.replace("@PORT@", str(port)).replace("@DIR@", str(workdir)))


def _first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (out.strip().splitlines() or ["?"])[0]


def _command_ngircd(port: int, workdir: Path) -> list[str]:
    _substitute("ngircd.conf.in", workdir / "ngircd.conf", port, workdir)
    return [APT_PACKAGES["ngircd"], "--nodaemon", "--config", str(workdir / "ngircd.conf")]


def _command_inspircd(port: int, workdir: Path) -> list[str]:
    _substitute("inspircd.conf.in", workdir / "inspircd.conf", port, workdir)
    argv = [APT_PACKAGES["inspircd"], "--nofork", f"--config={workdir / 'inspircd.conf'}"]
    return [*argv, "--runasroot"] if os.geteuid() == 0 else argv


def _command_miniircd(port: int, workdir: Path) -> list[str]:
    # miniircd has no flood control or limits to turn off; it uses select()
    # (no fd >= 1024) and listen(5).
    argv = [str(MINIIRCD), "--listen", "127.0.0.1", "--ports", str(port)]
    argv += ["--motd", str(workdir / "motd.txt")]
    return [*argv, "--setuid", "nobody"] if os.geteuid() == 0 else argv


def _hubbub_command(port: int, workdir: Path, extra: str = "") -> list[str]:
    config = workdir / "hubbub.toml"
    config.write_text(
        f'[server]\ndata_dir = "{workdir / "data"}"\n\n'
        f'[[listen]]\nhost = "127.0.0.1"\nport = {port}\n\n'
        "[limits]\nflood_control = false\nthrottle = false\n" + extra
    )
    return [str(HUBBUB), "serve", "--config", str(config)]


def _command_hubbub(port: int, workdir: Path) -> list[str]:
    """The defaults: every message is stored in the history."""
    return _hubbub_command(port, workdir)


def _command_hubbub_nohistory(port: int, workdir: Path) -> list[str]:
    """History off, like the peers, which store nothing."""
    return _hubbub_command(port, workdir, "\n[history]\nenabled = false\n")


@dataclass(frozen=True)
class Peer:
    name: str
    command: Callable[[int, Path], list[str]]
    version_argv: list[str]
    max_clients: int | None = None  # beyond this the server cannot work at all

    def version(self) -> str:
        return _first_line(self.version_argv)


PEERS: dict[str, Peer] = {
    "hubbub": Peer("hubbub", _command_hubbub, [str(HUBBUB), "--version"]),
    "hubbub-nohistory": Peer(
        "hubbub-nohistory", _command_hubbub_nohistory, [str(HUBBUB), "--version"]
    ),
    "ngircd": Peer("ngircd", _command_ngircd, [APT_PACKAGES["ngircd"], "--version"]),
    "inspircd": Peer("inspircd", _command_inspircd, [APT_PACKAGES["inspircd"], "--version"]),
    "miniircd": Peer("miniircd", _command_miniircd, [str(MINIIRCD), "--version"], 1000),
}


def install(names: list[str]) -> None:
    """apt-get the Debian peers and pip-install miniircd into a cache venv,
    each only when missing."""
    missing = [
        pkg for pkg, path in APT_PACKAGES.items() if pkg in names and not Path(path).exists()
    ]
    if missing:
        log(f"installing {' '.join(missing)} with apt-get")
        subprocess.run(["apt-get", "update", "-q"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(
            ["apt-get", "install", "-y", "-q", *missing], check=True, stdout=subprocess.DEVNULL
        )
    if "miniircd" in names and not MINIIRCD.exists():
        log(f"installing miniircd into {MINIIRCD.parent.parent}")
        subprocess.run([sys.executable, "-m", "venv", str(MINIIRCD.parent.parent)], check=True)
        pip = MINIIRCD.parent / "pip"
        subprocess.run([str(pip), "install", "-q", "miniircd"], check=True)
    if any(name.startswith("hubbub") for name in names) and not HUBBUB.exists():
        log(f"{HUBBUB} is missing; run `make serve` or `make test` once to create it")
        raise SystemExit(2)


class RunningServer:
    """One server process on a free loopback port, pinned to ``cpu`` (one
    CPU or a taskset list such as "0,1"). Stopped by its own PID only: TERM,
    then KILL after five seconds."""

    def __init__(self, peer: Peer, workdir: Path, cpu: int | str) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "conf.d").mkdir(exist_ok=True)
        (workdir / "motd.txt").write_text("hubbub benchmark\n")
        self.log_path = workdir / "server.log"
        argv = ["taskset", "-c", str(cpu), *peer.command(self.port, workdir)]
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        self.pid = self.process.pid  # taskset execs the server: same PID

    def wait_ready(self, timeout: float = 20.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    time.sleep(0.5)  # let it settle and forget the probe
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def log_tail(self, lines: int = 10) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _main_checkout() -> Path:
    """The repository's main checkout: REPO itself, or for a git worktree the
    checkout it was added from (where ``../shared`` sits next to it)."""
    try:
        common = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--path-format=absolute", "--git-common-dir"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return REPO
    return Path(common).parent


def ircload_source() -> Path:
    """Where the C load generator's source is: ``$IRCLOAD_SRC``, else
    ``../shared/tools/ircload/ircload.c`` next to the repository."""
    configured = os.environ.get("IRCLOAD_SRC")
    if configured:
        return Path(configured)
    return _main_checkout().parent / "shared" / "tools" / "ircload" / "ircload.c"


def build_ircload(source: Path, alternative: str) -> Path:
    """Compile the C reference generator into the cache (again when its
    source is newer). Missing source or gcc: one line saying what to do,
    exit status 2; ``alternative`` names the way to do without ircload."""
    if not source.is_file():
        log(
            f"ircload source not found at {source}; set IRCLOAD_SRC=/path/to/ircload.c "
            f"or {alternative}"
        )
        raise SystemExit(2)
    if shutil.which("gcc") is None:
        log(f"gcc is needed to build ircload (apt-get install gcc), or {alternative}")
        raise SystemExit(2)
    binary = CACHE / "ircload"
    if not binary.exists() or binary.stat().st_mtime < source.stat().st_mtime:
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["gcc", "-O2", "-o", str(binary), str(source)], check=True)
    return binary
