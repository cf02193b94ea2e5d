#!/usr/bin/env python3
"""Prints commune-bench's JSON lines as Markdown tables.

    bench-table.py FILE.jsonl            peer table: runs labelled SERVER/MEMBERS/SENDERS/PACING, one row per
                                         figure and shape, with Commune's ratio to Prosody and to the bare
                                         broadcaster (lower is better for CPU and latency, higher for rates)
    bench-table.py --runs FILE.jsonl     one row per run (scripts/bench)
"""
import json
import sys

FIGURES = [
    ("deliveries/s", lambda r: r.get("deliveries_per_s"), "{:,.0f}"),
    ("send→receive p50 ms", lambda r: r.get("latency", {}).get("p50_ms"), "{:.2f}"),
    ("send→receive p99 ms", lambda r: r.get("latency", {}).get("p99_ms"), "{:.2f}"),
    ("send→receive p99.9 ms", lambda r: r.get("latency", {}).get("p999_ms"), "{:.2f}"),
    ("send→receive max ms", lambda r: r.get("latency", {}).get("max_ms"), "{:.2f}"),
    ("server CPU µs/delivery", lambda r: r.get("cpu_us_per_delivery"), "{:.2f}"),
    ("server RSS KiB/connection", lambda r: r.get("rss_per_connection_kib"), "{:.1f}"),
    ("server RSS KiB at end", lambda r: r.get("server_rss_end_kib"), "{:,.0f}"),
    ("logins (joins)/s", lambda r: r.get("logins_per_s"), "{:,.0f}"),
]


def load(path):
    runs = []
    with open(path) as handle:
        for line in handle:
            line = line.strip()
            if line:
                runs.append(json.loads(line))
    return runs


def cell(run, figure):
    if run is None:
        return "—"
    _, get, fmt = figure
    value = get(run)
    if value is None:
        return "—"
    text = fmt.format(value)
    return text if run.get("complete", True) else text + "*"


def ratio(a, b, figure):
    if a is None or b is None:
        return "—"
    x, y = figure[1](a), figure[1](b)
    if x is None or not y:
        return "—"
    return "{:.2f}×".format(x / y)


def peers(runs):
    table = {}
    shapes = []
    for run in runs:
        parts = run.get("label", "").split("/")
        if len(parts) != 4:
            continue
        server, shape = parts[0], "/".join(parts[1:])
        if shape not in shapes:
            shapes.append(shape)
        table[(server, shape)] = run
    print("| members / senders / pacing | figure | Commune | Prosody MUC | bare broadcast | Commune ÷ Prosody | Commune ÷ bare |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for shape in shapes:
        commune, prosody, bare = (table.get((s, shape)) for s in ("commune", "prosody", "bare"))
        for figure in FIGURES:
            if all(r is None or figure[1](r) is None for r in (commune, prosody, bare)):
                continue
            print("| {} | {} | {} | {} | {} | {} | {} |".format(
                shape.replace("/", " / "), figure[0], cell(commune, figure), cell(prosody, figure), cell(bare, figure),
                ratio(commune, prosody, figure), ratio(commune, bare, figure)))
    print()
    print("`*` the run did not receive every expected delivery (see its notes in the JSON lines).")


def per_run(runs):
    print("| run | clients | figure | value |")
    print("| --- | ---: | --- | ---: |")
    for run in runs:
        label = run.get("label") or run.get("mode")
        rows = []
        for figure in FIGURES:
            value = figure[1](run)
            if value is not None:
                rows.append((figure[0], cell(run, figure)))
        for name, key in (("acked messages/s", "acked_per_s"), ("server CPU µs/acked message", "cpu_us_per_ack")):
            if run.get(key) is not None and run.get("mode") != "fanout":
                rows.append((name, "{:,.1f}".format(run[key])))
        if run.get("ack_latency") and run.get("mode") != "fanout":
            rows.append(("send→ack p99 ms", "{:.2f}".format(run["ack_latency"]["p99_ms"])))
        for depth in run.get("history", []):
            rows.append(("history page p99 ms at depth {:,} (loaded_messages / before)".format(depth["depth"]),
                         "{:.3f} / {}".format(depth["loaded_messages"]["p99_ms"],
                                              "{:.3f}".format(depth["before"]["p99_ms"]) if "before" in depth else "—")))
        if run.get("history_all"):
            h = run["history_all"]
            rows.append(("history pages, all depths: p50 / p99 / max ms",
                         "{:.3f} / {:.3f} / {:.3f}".format(h["p50_ms"], h["p99_ms"], h["max_ms"])))
        for name, value in rows:
            print("| {} | {:,} | {} | {} |".format(label, run.get("clients", 0), name, value))


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 64
    if args[0] == "--runs":
        per_run(load(args[1]))
    else:
        peers(load(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
