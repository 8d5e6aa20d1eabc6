"""Markdown for docs/performance.md: the comparison table, the detail table
and the generator check, each written between its own marker comments so
the hand-written text around them survives a re-run."""

from __future__ import annotations

from pathlib import Path

from cases import Case, Record

DETAIL = [
    ("sent_per_s", "sent/s"),
    ("deliveries_per_s", "deliv/s"),
    ("p50_ms", "p50 ms"),
    ("p99_ms", "p99 ms"),
    ("max_ms", "max ms"),
    ("reg_per_s", "reg/s"),
    ("rss_kb_per_client", "kB/client"),
    ("server_cpu_pct", "srv cpu%"),
    ("gen_cpu_pct", "gen cpu%"),
    ("other_cpu_s", "other cpu s"),
    ("lost", "lost"),
    ("errors", "err"),
    ("exit", "exit"),
]


def fmt(value: object) -> str:
    if value is None or value == -1:
        return "-"
    if isinstance(value, float):
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def _metric(record: Record, case: Case) -> float | None:
    if record.get("skipped") or record.get("exit") != 0:
        return None
    value = record.get(case.metric)
    return float(value) if isinstance(value, int | float) and value >= 0 else None


def _cell(record: Record, case: Case) -> str:
    if record.get("skipped"):
        return "n/a¹"
    value = _metric(record, case)
    if value is None:
        note = record.get("note") or f"exit {record.get('exit')}"
        return f"failed ({note})"
    return fmt(value)


def results_table(
    table: list[tuple[Case, dict[str, Record]]],
    servers: list[str],
    info: dict[str, str],
    versions: dict[str, str],
    settings: str,
    raw: Path,
) -> str:
    peers = [s for s in servers if s != "hubbub"]
    out = [
        f"Measured {info['date']} on {info['cpu']}, Linux {info['kernel']}, "
        f"Python {info['python']} ({info['loop']}), hubbub commit {info['commit']}. "
        f"Server pinned to CPU 0, `hubbub bench` to CPU 1; {settings}.",
        "",
        "Versions: " + "; ".join(f"{name}: {versions[name]}" for name in servers) + ".",
        "",
        "| case | metric | "
        + " | ".join(servers)
        + " | "
        + " | ".join(f"hubbub ÷ {p}" for p in peers if "hubbub" in servers)
        + " |",
        "|---|---|" + "---:|" * len(servers) + "---:|" * (len(peers) if "hubbub" in servers else 0),
    ]
    for case, row in table:
        better = "higher" if case.higher_is_better else "lower"
        cells = [_cell(row.get(s, {}), case) for s in servers]
        ratios = []
        if "hubbub" in servers:
            ours = _metric(row.get("hubbub", {}), case)
            for peer in peers:
                theirs = _metric(row.get(peer, {}), case)
                ratios.append(f"{ours / theirs:.2f}" if ours is not None and theirs else "-")
        out.append(
            f"| {case.title} | {case.label} ({better} is better) | "
            + " | ".join(cells)
            + " | "
            + " | ".join(ratios)
            + " |"
        )
    out += [
        "",
        "¹ not run: miniircd uses select(), which cannot watch file descriptors "
        "above 1023, so it cannot hold more than about 1,000 clients.",
        "",
        "<details><summary>All figures of these runs</summary>",
        "",
        "| server | case | " + " | ".join(h for _, h in DETAIL) + " |",
        "|---|---|" + "---:|" * len(DETAIL),
    ]
    for case, row in table:
        for server in servers:
            record = row.get(server, {})
            if not record.get("skipped"):
                values = " | ".join(fmt(record.get(k)) for k, _ in DETAIL)
                out.append(f"| {server} | {case.name} | {values} |")
    out += ["", f"Raw results: `{raw}`.", "", "</details>"]
    return "\n".join(out)


def generator_table(checks: list[tuple[Case, str, Record, Record]], info: dict[str, str]) -> str:
    out = [
        f"Measured {info['date']}, same machine and pinning. Each line is two separate runs "
        "against a fresh server: `hubbub bench` (the figure of the table above) and one run "
        "of the C tool ircload with the same options.",
        "",
        "| server | case | hubbub bench | its cpu% | ircload | its cpu% | hubbub bench ÷ ircload |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for case, server, ours, theirs in checks:
        a, b = _metric(ours, case), _metric(theirs, case)
        ratio = f"{a / b:.2f}" if a is not None and b else "-"
        out.append(
            f"| {server} | {case.name} ({case.label}) | {fmt(a)} | {fmt(ours.get('gen_cpu_pct'))} "
            f"| {fmt(b)} | {fmt(theirs.get('gen_cpu_pct'))} | {ratio} |"
        )
    return "\n".join(out)


def write_section(path: Path, name: str, body: str) -> None:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->``,
    appending the section when the markers are not there yet."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = path.read_text() if path.exists() else "# Performance\n"
    block = f"{begin}\n{body}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + block + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
