"""--replication: monolite with a file replica (docs/replication.md), four measurements:
1. insert@64 with a replica vs without (both servers up; 8 runs of half the usual length in the
   order ABBA BAAB so that drift cancels; medians compared), with --synchronous normal and full;
2. replication lag at a steady 5,000 inserts/s (wrk/insert_paced.lua): p50/p99 of
   monolite_replica_ship_delay_seconds from two scrapes of /metrics, and the max of
   monolite_replica_lag_seconds sampled during the run;
3. --replica-sync: acknowledged inserts/s at 64 clients;
4. restore of a ~1 GiB database (restore_bench.py).
The replica is a directory in the run directory, i.e. on the local disk (file:// store)."""
import dataclasses
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from . import machine, prom, restore_bench
from .loadgen import percentile, run_wrk
from .phases import ROWS, Context, check_server_log, fresh_copy, monolite_workload
from .procs import Monolite
from .prom import counters, metric, wait_shipped, wait_snapshot

CLIENTS = 64
TPUT_TARGET = 0.9         # insert req/s with a replica / without
LAG_RATE = 5000           # inserts/s for the lag measurement
LAG_TARGET_S = 1.0        # p99 ship delay
SYNC_TARGET = 10_000      # acknowledged writes/s in --replica-sync
DELAY = "monolite_replica_ship_delay_seconds"
# Without (A) and with (B) a replica, alternated: a machine that gets busier or quieter during the
# eight runs weighs on both sides alike.
ORDER = ("without", "with", "with", "without", "with", "without", "without", "with")


def replica_server(ctx: Context, db: Path, sync: str, name: str, *flags) -> Monolite:
    """monolite serve with --replica file://<run dir>/replica-<name>."""
    url = f"file://{ctx.run_dir / ('replica-' + name)}"
    return Monolite(ctx.monolite_bin, db, sync, ctx.ledger, ctx.run_dir / f"monolite-{name}.log",
                    extra=("--replica", url, *flags))


def counter_delta(after: dict, before: dict, seconds: float) -> dict:
    d = {k: after[k] - before[k] for k in after}
    return {"objects": int(d["objects"]), "objects_per_s": round(d["objects"] / seconds, 1),
            "mib_uploaded": round(d["bytes"] / 2**20, 1), "errors": int(d["errors"])}


# --- 1. throughput with and without a replica -------------------------------------------------

def throughput(ctx: Context, seed: Path, sync: str) -> dict:
    plain_db = fresh_copy(ctx, seed, f"repl-plain-{sync}.db")
    repl_db = fresh_copy(ctx, seed, f"repl-tput-{sync}.db")
    short = dataclasses.replace(ctx, seconds=max(3.0, ctx.seconds / 2))
    runs = []
    with Monolite(ctx.monolite_bin, plain_db, sync.lower(), ctx.ledger,
                  ctx.run_dir / f"monolite-plain-{sync}.log") as plain, \
            replica_server(ctx, repl_db, sync.lower(), f"tput-{sync}") as repl:
        wait_snapshot(repl)
        for srv in (plain, repl):
            run_wrk(srv.url, "point_read", CLIENTS, ctx.warmup, ROWS)
        for kind in ORDER:
            srv = repl if kind == "with" else plain
            before = counters(repl)
            e = monolite_workload(short, srv, f"{sync} {kind} replica", "insert", CLIENTS)
            if kind == "with":
                wait_shipped(repl)
                e["replica"] = counter_delta(counters(repl), before, e["seconds"])
            runs.append({**e, "replica_attached": kind == "with"})
    check_server_log(ctx, plain, f"monolite {sync} without replica")
    check_server_log(ctx, repl, f"monolite {sync} with replica")
    med = {k: statistics.median(e["rps"] for e in runs if e["replica_attached"] == (k == "with"))
           for k in ("without", "with")}
    return {"synchronous": sync, "runs": runs, "rps_without_median": round(med["without"], 1),
            "rps_with_median": round(med["with"], 1), "ratio": round(med["with"] / med["without"], 3)}


# --- 2. lag at a steady rate -------------------------------------------------------------------

def sample_lag(srv: Monolite, running, interval: float = 0.1) -> list:
    """monolite_replica_lag_seconds every `interval` s while running() is true."""
    samples = []
    while running():
        samples.append(metric(srv, "monolite_replica_lag_seconds"))
        time.sleep(interval)
    return samples


def paced_inserts(srv: Monolite, rate: int, seconds: float) -> tuple:
    """wrk/insert_paced.lua at `rate` req/s in all; lag gauge sampled meanwhile."""
    with ThreadPoolExecutor(1) as pool:
        job = pool.submit(run_wrk, srv.url, "insert_paced", CLIENTS, seconds, ROWS, {"BENCH_RATE": rate})
        samples = sample_lag(srv, lambda: not job.done())
        return job.result(), samples


def segment_times(replica: Path) -> dict:
    """From the WAL segment names (index, first commit time) and the files' mtimes (written, before
    the fsync and rename): how many segments over how many WAL indexes (a new index follows each
    checkpoint), and how long after its first commit each segment was written."""
    rows = []
    for f in replica.glob("generations/*/wal/*.wal.lz4"):
        head, first, _ = f.name.split("_")
        t = datetime.strptime(first, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc).timestamp()
        rows.append((head.split("-")[0], f.stat().st_mtime - t))
    waits = sorted(w for _, w in rows)
    return {"segments": len(rows), "wal_indexes": len({i for i, _ in rows}),
            "first_commit_to_written_p50_s": round(percentile(waits, 50), 3) if waits else None,
            "first_commit_to_written_max_s": round(waits[-1], 3) if waits else None}


def lag(ctx: Context, seed: Path) -> dict:
    seconds = max(ctx.seconds, 5)
    with replica_server(ctx, fresh_copy(ctx, seed, "repl-lag.db"), "normal", "lag") as srv:
        wait_snapshot(srv)
        run_wrk(srv.url, "point_read", CLIENTS, ctx.warmup, ROWS)
        ctx.log(f"replication lag: inserts at {LAG_RATE}/s for {seconds:.0f} s")
        before = prom.histogram(prom.scrape(srv.url), DELAY)
        r, samples = paced_inserts(srv, LAG_RATE, seconds)
        wait_shipped(srv)
        h = prom.delta(prom.histogram(prom.scrape(srv.url), DELAY), before)
    check_server_log(ctx, srv, "monolite lag")
    segments = segment_times(ctx.run_dir / "replica-lag")
    if r["errors"]:
        ctx.note(f"replication lag run: {r['errors']} errors {r.get('error_kinds')}")
    q = {p: prom.quantile(h, p / 100) for p in (50, 99)}
    return {"target_rate": LAG_RATE, "achieved_rate": r["rps"], "load": r, "commits": int(h["count"]),
            "writes_per_commit": round(r["requests"] / h["count"], 1) if h["count"] else None,
            "p50_s": q[50], "p99_s": q[99], "mean_s": round(h["sum"] / h["count"], 4) if h["count"] else None,
            "histogram": h["buckets"], "lag_gauge_max_s": round(max(samples, default=0), 3),
            "lag_gauge_samples": len(samples), "wal_segments": segments}


# --- 3. sync mode ------------------------------------------------------------------------------

def sync_mode(ctx: Context, seed: Path) -> dict:
    with replica_server(ctx, fresh_copy(ctx, seed, "repl-sync.db"), "normal", "sync", "--replica-sync") as srv:
        wait_snapshot(srv)
        run_wrk(srv.url, "point_read", CLIENTS, ctx.warmup, ROWS)
        before = counters(srv)
        e = monolite_workload(ctx, srv, "NORMAL --replica-sync", "insert", CLIENTS)
        e["replica"] = counter_delta(counters(srv), before, e["seconds"])
    check_server_log(ctx, srv, "monolite --replica-sync")
    e["acknowledged_per_s"] = round((e["requests"] - e["errors"]) / e["seconds"], 1)
    objects = e["replica"]["objects"]
    e["writes_per_upload"] = round((e["requests"] - e["errors"]) / objects, 1) if objects else None
    return e


# --- all of it ---------------------------------------------------------------------------------

def checks(doc: dict) -> list:
    """Each target against what was measured (so far); the ratio is value / target."""
    out = [(f"insert@64 {t['synchronous']}: with replica / without (medians)", t["ratio"], "x", TPUT_TARGET, ">=")
           for t in doc.get("throughput", [])]
    if "lag" in doc:
        out.append(("lag p99 at 5,000 writes/s (bucket upper bound)", doc["lag"]["p99_s"]["upper"], "s",
                    LAG_TARGET_S, "<="))
    if "sync" in doc:
        out.append(("--replica-sync acknowledged writes/s", doc["sync"]["acknowledged_per_s"], "/s",
                    SYNC_TARGET, ">="))
    if "restore" in doc:
        r, rss = doc["restore"], restore_bench.RSS_TARGET_MIB
        out += [(f"restore of ~{r['gib']} GiB, database bytes/s", r["mb_per_s"], "MB/s", restore_bench.TARGET_MB_S,
                 ">="),
                (f"restore of ~{r['gib']} GiB, peak VmRSS", r["peak_rss_mib"], "MiB", rss, "<"),
                (f"restore of ~{r['gib']} GiB, peak RssAnon", r["peak_anon_mib"], "MiB", rss, "<"),
                ("longest commit while the snapshot uploads", r["commit_stall"]["during"]["max_ms"], "ms",
                 r["commit_stall"]["target_max_ms"], "<"),
                ("longest commit in the 3 s after the upload", r["commit_stall"]["after"]["max_ms"], "ms",
                 r["commit_stall"]["target_max_ms"], "<")]
    return [{"check": n, "value": v, "unit": u, "target": t, "direction": d, "ratio": round(v / t, 2),
             "status": "PASS" if {">=": v >= t, "<=": v <= t, "<": v < t}[d] else "MISS"}
            for n, v, u, t, d in out if v is not None]


def run(ctx: Context, seed: Path, doc: dict, with_restore: bool = True, restore_gib: int = 1,
        restore_only: bool = False) -> None:
    """Fills doc as it goes, so that what was measured is kept if a later step fails."""
    try:
        if restore_only:
            doc["restore"] = restore_bench.restore(ctx, restore_gib)
            return
        doc.update(disk=machine.disk_of(ctx.run_dir), fsync_probe=restore_bench.fsync_probe(ctx.run_dir))
        ctx.log(f"replica disk: {doc['disk']}; file-store upload probe {doc['fsync_probe']}")
        doc["throughput"] = []
        for sync in ("NORMAL", "FULL"):
            doc["throughput"].append(throughput(ctx, seed, sync))
        doc["lag"] = lag(ctx, seed)
        doc["sync"] = sync_mode(ctx, seed)
        if with_restore:
            doc["restore"] = restore_bench.restore(ctx, restore_gib)
    finally:
        doc["checks"] = checks(doc)
