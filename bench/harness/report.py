"""The printed table, the ratios with their targets, and the JSON file."""
import json
import re
from pathlib import Path

from . import drill_report, move_bench, pg_engine_bench, replica_bench
from .phases import CLIENTS, PAIRS, WORKLOADS
from .restore_probes import STALL_TARGET_MS as STALL_MS
from .scale import size_label

# (name, numerator key, denominator key, target); key = (target, durability, workload, clients)
RATIOS = (
    ("point read@64  monolite NORMAL / PG sync off", ("monolite", "NORMAL", "point_read", 64),
     ("postgres", "sync off", "point_read", 64), 1.5),
    ("point read@64  monolite NORMAL / HTTP ceiling", ("monolite", "NORMAL", "point_read", 64),
     ("ceiling", "-", "healthz", 64), 0.7),
    ("insert@64      monolite NORMAL / HTTP ceiling", ("monolite", "NORMAL", "insert", 64),
     ("ceiling", "-", "healthz", 64), 0.6),
    ("insert@64      monolite NORMAL / PG sync off", ("monolite", "NORMAL", "insert", 64),
     ("postgres", "sync off", "insert", 64), 1.0),
    ("insert@64      monolite FULL / PG sync on", ("monolite", "FULL", "insert", 64),
     ("postgres", "sync on", "insert", 64), 2.0),
)
RSS_TARGET_MIB = 64


def key(r: dict) -> tuple:
    return r["target"], r["durability"], r["workload"], r["clients"]


def label(r: dict) -> str:
    names = {"monolite": "monolite", "postgres": "PostgreSQL", "ceiling": "HTTP ceiling"}
    pair = {"NORMAL": "A", "sync off": "A", "FULL": "B", "sync on": "B"}.get(r["durability"], "")
    dur = "" if r["durability"] == "-" else " " + r["durability"]
    return f"{names[r['target']]}{dur}", pair


def ratios(results: list) -> list:
    by_key = {key(r): r for r in results}
    out = []
    for name, num, den, target in RATIOS:
        if num in by_key and den in by_key and by_key[den]["rps"]:
            v = by_key[num]["rps"] / by_key[den]["rps"]
            out.append({"ratio": name, "value": round(v, 2), "target": target,
                        "status": "PASS" if v >= target else "MISS"})
    return out


NUMERIC = re.compile(r"^[-~]?[\d,.]+(x|%| GB| MB| MiB)?$")


def table(rows: list, header: tuple) -> str:
    """Plain-text table; columns whose cells are all numbers are right-aligned."""
    cells = [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in [header] + cells) for i in range(len(header))]
    right = [all(NUMERIC.match(r[i]) or not r[i] for r in cells) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.rjust(w) if rt else c.ljust(w) for c, w, rt in zip(r, widths, right)).rstrip()
    return "\n".join([fmt(header), "  ".join("-" * w for w in widths)] + [fmt(r) for r in cells])


def _ordered(results: list) -> list:
    order = [("monolite", "NORMAL"), ("postgres", "sync off"), ("monolite", "FULL"), ("postgres", "sync on")]
    by_key = {key(r): r for r in results}
    for workload in WORKLOADS:
        for clients in CLIENTS:
            for target, dur in order:
                if (target, dur, workload, clients) in by_key:
                    yield by_key[(target, dur, workload, clients)]
    yield from (r for r in results if r["target"] == "ceiling")


def results_table(results: list) -> str:
    rows = []
    for r in _ordered(results):
        name, pair = label(r)
        rows.append((r["workload"], r["clients"], name, pair, f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f}",
                     f"{r['p99_ms']:.2f}", f"{r['p999_ms']:.2f}", r["errors"]))
    return table(rows, ("workload", "clients", "target", "pair", "req/s", "p50 ms", "p99 ms", "p999 ms", "errors"))


def loop_table(loop: list) -> str:
    tests = dict.fromkeys(r["workload"] for r in loop)
    val = {(r["workload"], r["durability"]): r["ops_per_s"] for r in loop}
    rows = [(t, *(f"{val.get((t, s), 0):,.0f}" for s, _ in PAIRS)) for t in tests]
    return table(rows, ("test", *(f"ops/s {s}" for s, _ in PAIRS)))


def _settings_line(settings: dict) -> str:
    if settings.get("drills") and not any(settings.get(k) for k in ("soak", "scale", "replication")):
        return "settings: the replication drills only (no comparison); all on one 2-core machine over loopback"
    return (f"settings: {settings['seconds']} s per run (+{settings['warmup']} s warm-up per target), "
            f"{settings['rows']:,} rows; wrk -t2 (-t1 for 1 client), pgbench -M prepared -j 2 (-j 1 for 1 client); "
            "all on one 2-core machine over loopback")


def machine_header(m: dict, settings: dict) -> str:
    return "\n".join([
        f"machine : {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, kernel {m['kernel']} ({m['os']})",
        f"versions: monolite {m['monolite']} ({m['monolite_source']}), SQLite {m['sqlite']}, Boost {m['boost']}, {m['postgresql']}, {m['wrk']}",
        _settings_line(settings),
        f"load    : 1-min load average {m['loadavg_start']} at start, {m.get('loadavg_end', '?')} at end "
        "(anything else running on the machine shows up here)",
        "pairs   : A = matching durability without fsync per commit (monolite --synchronous normal <-> PG "
        "synchronous_commit=off); B = fsync per commit (monolite --synchronous full <-> PG synchronous_commit=on)"])


def _half_load_table(half: list) -> str:
    rows = [(f"{h['clients']} connections", f"{h['rps']:,.0f}", f"~{h['percent_of_max']}% of max",
             f"{h['p50_ms']:.2f}", f"{h['p99_ms']:.2f}") for h in half]
    rows.append(("64 connections (max)", f"{half[0]['max_rps']:,.0f}", "100%", "", f"{half[0]['max_p99_ms']:.2f}"))
    return table(rows, ("load", "req/s", "of max", "p50 ms", "p99 ms"))


def _soak_line(s: dict) -> str:
    r = s["result"]
    return (f"Soak: mix@64 for {s['seconds']} s: {r['rps']:,.0f} req/s, p99 {r['p99_ms']:.2f} ms, errors {r['errors']}; "
            f"RSS first {s['rss_first_mib']} MiB, last {s['rss_last_mib']} MiB, max {s['rss_max_mib']} MiB "
            f"({len(s['rss_samples_mib'])} samples; at the end anon {s['rss_at_end']['RssAnon']}, "
            f"file {s['rss_at_end']['RssFile']}, shmem {s['rss_at_end']['RssShmem']} MiB)")


def _scale_table(sc: dict) -> str:
    rows = [(r["dimension"], r["db"], size_label(r["db_bytes"]), r["clients"], r["workload"],
             f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", r["errors"]) for r in sc["rows"]]
    return (table(rows, ("dimension", "db", "file", "clients", "workload", "req/s", "p50 ms", "p99 ms", "errors"))
            + f"\nCSV: {sc['csv']}   plot: {sc['plot']}")


def rss_lines(r: dict) -> str:
    status = lambda v: "PASS" if v < RSS_TARGET_MIB else "MISS"
    conns = f"with_{r['connections']}_idle_connections_mib"
    lines = [f"  idle                                {r['idle_mib']:7.1f} MiB  {status(r['idle_mib'])}",
             f"  {r['connections']} idle keep-alive connections    {r[conns]:7.1f} MiB  {status(r[conns])}"
             f"  ({r['connections_still_open']}/{r['connections']} still answered a 2nd request)"]
    if "after_load" in r:
        a = r["after_load"]
        lines.append(f"  after the load above                {a['VmRSS']:7.1f} MiB  (anon {a['RssAnon']}, file "
                     f"{a['RssFile']}, shmem {a['RssShmem']}; peak VmHWM {a['VmHWM']} MiB; SQLite page caches "
                     "are up to cache_size=64 MB per connection, so this is not held to the idle target)")
    return "\n".join(lines)


def _replication_runs(doc: dict) -> str:
    rows = []
    for e in [e for t in doc.get("throughput", []) for e in t["runs"]] + ([doc["sync"]] if "sync" in doc else []):
        rep = e.get("replica", {})
        rows.append((f"insert@{e['clients']} {e['durability']}", f"{e['rps']:,.0f}", f"{e['p50_ms']:.2f}",
                     f"{e['p99_ms']:.2f}", e["errors"], rep.get("objects", ""), rep.get("objects_per_s", "")))
    return table(rows, ("run", "req/s", "p50 ms", "p99 ms", "errors", "uploads", "uploads/s"))


def _bucket(q: dict) -> str:
    return f"({q['lower']:g}, {q['upper']:g}] s, ~{q['interpolated']:.3f} s interpolated"


def _replica_line(doc: dict) -> str:
    pr = doc["fsync_probe"]
    return (f"replica: a file:// directory on {doc['disk']}; one upload done like the file store's (write "
            f"{pr['object_kib']} KiB, fsync, rename, fsync the folder) takes p50 {pr['p50_ms']} ms, p99 "
            f"{pr['p99_ms']} ms here = {pr['uploads_per_s']:,.0f} uploads/s")


def _lag_line(lg: dict) -> str:
    sg = lg["wal_segments"]
    return (f"lag: {lg['achieved_rate']:,.0f} inserts/s reached (target {lg['target_rate']:,}/s, "
            f"{lg['load']['seconds']:.0f} s, {lg['load']['errors']} errors), {lg['commits']:,} commits "
            f"({lg['writes_per_commit']} writes each); ship delay per commit, at bucket resolution: p50 in "
            f"{_bucket(lg['p50_s'])}; p99 in {_bucket(lg['p99_s'])}; mean {lg['mean_s']} s; "
            f"lag gauge max {lg['lag_gauge_max_s']} s ({lg['lag_gauge_samples']} samples, 0.1 s apart); "
            f"{sg['segments']} WAL segments over {sg['wal_indexes']} WAL indexes (one per checkpoint), each written "
            f"p50 {sg['first_commit_to_written_p50_s']} s, max {sg['first_commit_to_written_max_s']} s after its "
            "first commit")


def _sync_line(sy: dict) -> str:
    return (f"sync: {sy['acknowledged_per_s']:,.0f} acknowledged writes/s, p50 {sy['p50_ms']:.2f} ms, "
            f"p99 {sy['p99_ms']:.2f} ms, {sy['writes_per_upload']} writes per upload")


def _restore_line(r: dict) -> str:
    return (f"restore: {r['db_bytes'] / 2**20:,.0f} MiB database ({r['snapshot_bytes'] / 2**20:,.0f} MiB LZ4 "
            f"snapshot + {r['segments_applied']} WAL segments) in {r['restore_s']:.2f} s = {r['mib_per_s']:,.0f} "
            f"MiB/s = {r['mb_per_s']:,.0f} MB/s (process wall {r['restore_wall_s']:.2f} s); PRAGMA integrity_check "
            f"alone {r['integrity_check_s']:.2f} s (without it ~{r['mib_per_s_without_integrity_check']:,.0f} MiB/s); "
            f"memory of monolite restore ({r['memory_samples']} samples {r['memory_interval_s']} s apart): peak VmRSS "
            f"{r['peak_rss_mib']:,.1f} MiB, peak RssAnon {r['peak_anon_mib']:,.1f} MiB, peak RssFile "
            f"{r.get('peak_file_mib', '?')} MiB, VmHWM {r['vm_hwm_mib']} MiB "
            "(VmRSS includes the file pages integrity_check maps); "
            f"at start the snapshot was in the replica {r['snapshot_s']:.1f} s after launch "
            f"= {r['snapshot_mib_per_s']:,.0f} MiB/s; restore said 'applied 100/...' WAL segments at "
            f"{r.get('first_applied_100_s')} s and its last 'applied' at {r.get('last_applied_100_s')} s "
            "(the commit-stall client's writes make most of the segments)\n  " + _stall_line(r["commit_stall"]))


def _latency(d: dict) -> str:
    if not d["count"]:
        return "no writes"
    return (f"{d['count']:,} writes, p50 {d['p50_ms']:.2f} ms, p99 {d['p99_ms']:.2f} ms, max {d['max_ms']:.2f} ms, "
            f"{d['over_target']} of them >= {STALL_MS} ms"
            + (" (started at s after launch, ms: " + ", ".join(f"{t}: {m}" for t, m in d["slow"][:5]) + ")"
               if d["slow"] else ""))


def _stall_line(c: dict) -> str:
    return (f"commit stall (one client, single-row inserts back to back on one keep-alive connection): "
            f"while the snapshot uploads {_latency(c['during'])} -> {c['status']} (max < {c['target_max_ms']} ms); "
            f"the 3 s after it {_latency(c['after'])}; {c['errors']} non-200. Overlap, s after launch "
            f"({c['snapshot_times_from']}): snapshot {c['snapshot_start_s']} -> {c['snapshot_end_s']} "
            f"(seen in /metrics at {c['snapshot_seen_s']}), writes from {c['writes_first_s']} to "
            f"{c['writes_during_last_s']} = {100 * c['overlap_fraction']:.0f}% of the upload covered")


def _with_unit(v, unit: str) -> str:
    return {"x": f"{v:.2f}x", "s": f"{v:g} s", "/s": f"{v:,.0f}/s", "ms": f"{v:.1f} ms",
            "MiB": f"{v:,.1f} MiB"}.get(unit, f"{v:,.0f} {unit}")


def replication_section(doc: dict) -> str:
    lines = [fn(doc[k] if k else doc) for k, fn in (("", _replica_line), ("lag", _lag_line),
                                                     ("sync", _sync_line), ("restore", _restore_line))
             if (k or "fsync_probe") in doc]
    checks = [(c["check"], _with_unit(c["value"], c["unit"]), f"{c['direction']} {_with_unit(c['target'], c['unit'])}",
               f"{c['ratio']:.2f}", c["status"]) for c in doc.get("checks", [])]
    runs = [_replication_runs(doc)] if doc.get("throughput") or "sync" in doc else []
    return "\n".join([*runs, *("  " + l for l in lines), "",
                      table(checks, ("check", "value", "target", "value/target", "result"))])


# (JSON key, title, renderer): a section is printed when its key is in the document.
SECTIONS = (
    ("results", "Throughput and latency (percentiles from wrk's histogram / pgbench --log):", results_table),
    ("sqlite_loop", "In-process limit (bench/sqlite_loop.cpp, one connection, prepared statements):", loop_table),
    ("ratios", "Ratios (req/s) against targets:",
     lambda rs: table([(r["ratio"], f"{r['value']:.2f}x", f">= {r['target']}x", r["status"]) for r in rs],
                      ("ratio", "value", "target", "result"))),
    ("half_load", "Point-read p99 at partial load (monolite NORMAL; wrk has no rate limit, fewer connections instead):",
     _half_load_table),
    ("rss", f"monolite RSS (target < {RSS_TARGET_MIB} MiB):", rss_lines),
    ("soak", "Soak (monolite NORMAL):", _soak_line),
    ("scale", "Scale (monolite NORMAL):", _scale_table),
    ("replication", "Replication (bench/harness/replication.py; monolite NORMAL unless named, 64 clients):",
     replication_section),
    ("drills", "Replication drills (bench/harness/drills.py):", lambda d: drill_report.render(d)),  # late: drill_report imports this module
    ("move", "Moving to PostgreSQL (bench/harness/move_bench.py):", lambda d: move_bench.render(d)),
    ("pg_engine", "monolite serving PostgreSQL vs pgbench vs monolite on SQLite (bench/harness/pg_engine_bench.py):",
     lambda d: pg_engine_bench.render(d)),
    ("replicas", "libSQL embedded replicas: local reads vs HTTP vs Hrana, and the replication log's cost on inserts "
     "(bench/harness/replica_bench.py):", lambda d: replica_bench.render(d)),
    ("notes", "Notes:", lambda ns: "\n".join(f"  - {n}" for n in ns)),
)


def render(doc: dict) -> str:
    out = ["", "=" * 100, "monolite benchmark  " + doc["started"], "=" * 100,
           machine_header(doc["machine"], doc["settings"])]
    for k, title, fn in SECTIONS:
        if doc.get(k):
            out += ["", title, fn(doc[k])]
    out += ["", f"elapsed {doc['elapsed_s']:.0f} s; JSON: {doc['json']}", ""]
    return "\n".join(out)


def save(doc: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
