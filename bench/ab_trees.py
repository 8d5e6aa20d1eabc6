#!/usr/bin/env python3
"""bench/ab_trees.py -- two source trees of hubbub over real sockets, ABBA.

Runs ``../shared/tools/ircload/compare.sh`` (server pinned to CPU 0, the C
load generator to CPU 1) against this checkout and against another tree's
``src`` (``git worktree add /tmp/base <commit>``), alternating A B B A per
round so a machine that gets busier or quieter favours neither. Besides
throughput it reports the server's CPU time per delivery, which other
processes on a shared machine move far less than they move throughput.

  bench/ab_trees.py /tmp/base/src --rounds 3 --cases fanout,direct
"""

from __future__ import annotations

import argparse
import json
import shlex
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = REPO / ".venv" / "bin" / "python"
COMPARE = REPO.parent / "shared" / "tools" / "ircload" / "compare.sh"
CONFIG = (
    '[server]\ndata_dir = "{dir}/data"\n\n[[listen]]\nhost = "127.0.0.1"\nport = {port}\n\n'
    "[limits]\nflood_control = false\nthrottle = false\n"
)
CASES = {
    "fanout": ["fanout", "--clients", "500", "--channels", "1", "--senders", "10"],
    "direct": ["direct", "--clients", "1000"],
}


def server_command(src: Path) -> str:
    """A compare.sh ``cmd:`` line: write the config, then exec the server
    from ``src`` (PYTHONPATH first, so the venv's own copy is not used)."""
    config = CONFIG.replace("\n", "\\n")
    serve = (
        f"printf '{config}' > {{dir}}/hubbub.toml && "
        f"PYTHONPATH={shlex.quote(str(src))} exec {PYTHON} -m hubbub serve "
        "--config {dir}/hubbub.toml"
    )
    return "cmd:sh -c " + shlex.quote(serve)


def run(src: Path, case: str, seconds: float) -> dict[str, float]:
    argv = [
        str(COMPARE),
        server_command(src),
        *CASES[case],
        "--rate",
        "0",
        "--duration",
        str(seconds),
    ]
    out = subprocess.run(argv, capture_output=True, text=True, timeout=600).stdout
    line = next((x for x in reversed(out.splitlines()) if x.startswith("RESULT ")), None)
    if line is None:
        print(f"  no result from {src} {case}:\n{out[-1500:]}", file=sys.stderr)
        return {}
    result: dict[str, float] = json.loads(line[len("RESULT ") :])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="the other tree's src directory")
    parser.add_argument(
        "--this", type=Path, default=REPO / "src", help="the tree to compare (default: this one)"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default="fanout,direct")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    trees = {"base": args.base.resolve(), "this": args.this.resolve()}
    for case in args.cases.split(","):
        rates: dict[str, list[float]] = {"base": [], "this": []}
        cpu: dict[str, list[float]] = {"base": [], "this": []}
        for round_ in range(args.rounds):
            for name in ("base", "this", "this", "base"):
                r = run(trees[name], case, args.seconds)
                if not r or not r.get("delivered_total"):
                    continue
                rates[name].append(r["deliveries_per_s"])
                us = 1e6 * r["server_cpu_s"] / r["delivered_total"]
                cpu[name].append(us)
                print(
                    f"{case} round {round_ + 1} {name}: {r['deliveries_per_s']:,.0f} deliveries/s, "
                    f"server {us:.3f} us CPU per delivery, other_cpu_s {r.get('other_cpu_s')}",
                    flush=True,
                )
        for name in ("base", "this"):
            if rates[name]:
                print(
                    f"{case} {name}: median {statistics.median(rates[name]):,.0f} deliveries/s, "
                    f"median {statistics.median(cpu[name]):.3f} us CPU per delivery "
                    f"({len(rates[name])} runs)"
                )
        if rates["base"] and rates["this"]:
            ratio = statistics.median(cpu["this"]) / statistics.median(cpu["base"])
            print(f"{case}: this/base CPU per delivery {ratio:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
