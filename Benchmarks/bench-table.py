#!/usr/bin/env python3
"""Prints commune-bench's JSON lines as Markdown tables.

    bench-table.py FILE.jsonl            peer table: runs labelled SERVER/MEMBERS/SENDERS/PACING, one row per
                                         figure and shape, with Commune's ratio to Prosody and to the bare
                                         broadcaster (lower is better for CPU and latency, higher for rates)
    bench-table.py --runs FILE.jsonl     one row per run (scripts/bench)
    bench-table.py --cluster FILE.jsonl  scripts/bench --cluster: runs labelled cluster/SETUP/STEP (ingest, latency,
                                         catchup), one column per setup (one node on SQLite, one on PostgreSQL,
                                         three on PostgreSQL)
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
    ("server RSS KiB with idle connections", lambda r: r.get("server_rss_idle_kib"), "{:,.0f}"),
    ("generator RSS KiB with idle connections", lambda r: r.get("generator_rss_idle_kib"), "{:,.0f}"),
    ("logins (joins)/s", lambda r: r.get("logins_per_s"), "{:,.0f}"),
    ("server CPU ms/login", lambda r: r.get("server_cpu_ms_per_login"), "{:.2f}"),
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


CLUSTER_SETUPS = [("sqlite-1", "1 node, SQLite"), ("pg-1", "1 node, PostgreSQL"), ("pg-3", "3 nodes, PostgreSQL")]


def postgres_cpu_per(count_key):
    """PostgreSQL's CPU µs per acknowledged message or per delivery."""
    return lambda r: r["postgres_cpu_s"] * 1e6 / r[count_key] if r.get("postgres_cpu_s") is not None and r.get(count_key) else None


def paced_figures(step, title):
    return [
        (step, f"{title}: deliveries/s reached", lambda r: r.get("deliveries_per_s"), "{:,.0f}"),
        (step, f"{title}: send→receive p50 ms", lambda r: r.get("latency", {}).get("p50_ms"), "{:.2f}"),
        (step, f"{title}: send→receive p99 ms", lambda r: r.get("latency", {}).get("p99_ms"), "{:.2f}"),
        (step, f"{title}: send→receive max ms", lambda r: r.get("latency", {}).get("max_ms"), "{:.1f}"),
        (step, f"{title}: nodes' CPU µs/delivery", lambda r: r.get("cpu_us_per_delivery"), "{:.2f}"),
        (step, f"{title}: PostgreSQL CPU µs/delivery", postgres_cpu_per("deliveries"), "{:.2f}"),
    ]


CLUSTER_FIGURES = [
    ("ingest", "ingest: acked messages/s", lambda r: r.get("acked_per_s"), "{:,.0f}"),
    ("ingest", "ingest: send→ack p99 ms", lambda r: r.get("ack_latency", {}).get("p99_ms"), "{:.1f}"),
    ("ingest", "ingest: nodes' CPU µs/acked message", lambda r: r.get("cpu_us_per_ack"), "{:.1f}"),
    ("ingest", "ingest: PostgreSQL CPU µs/acked message", postgres_cpu_per("acknowledged"), "{:.1f}"),
    *paced_figures("latency", "paced"),
    *paced_figures("latency-half", "half rate"),
    ("catchup", "catch-up of 1,000 missed: median ms (rounds)",
     lambda r: "{:.0f} ({})".format(r["catchup_ms_median"], ", ".join("{:.0f}".format(x["catchup_ms"]) for x in r["rounds"])),
     "{}"),
]


def cluster(runs):
    by = {run.get("label"): run for run in runs}
    print("| figure | " + " | ".join(name for _, name in CLUSTER_SETUPS) + " |")
    print("| --- |" + " ---: |" * len(CLUSTER_SETUPS))
    for step, name, get, fmt in CLUSTER_FIGURES:
        cells = []
        for setup, _ in CLUSTER_SETUPS:
            run = by.get(f"cluster/{setup}/{step}")
            value = get(run) if run is not None else None
            text = "—" if value is None else fmt.format(value)
            if run is not None and value is not None and not run.get("complete", True):
                text += "*"
            cells.append(text)
        print(f"| {name} | " + " | ".join(cells) + " |")
    print()
    print("`*` the run did not receive every expected delivery or acknowledgement (see its notes in the JSON lines).")
    ceiling = [(label.split("/")[-1], run.get("tps")) for label, run in by.items() if label.startswith("cluster/stream/")]
    if ceiling:
        print()
        print("| cluster stream appends (pgbench, one record each) | transactions/s |")
        print("| --- | ---: |")
        for name, tps in ceiling:
            kind, clients = name.rsplit("-", 1)
            what = "cluster_stream row (as the nodes append)" if kind == "row" else "a sequence instead (no lock to the commit)"
            print("| {}, {} client{} | {} |".format(what, clients, "" if clients == "1" else "s", "—" if tps is None else "{:,.0f}".format(tps)))


def main():
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 64
    if args[0] == "--runs":
        per_run(load(args[1]))
    elif args[0] == "--cluster":
        cluster(load(args[1]))
    else:
        peers(load(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
