"""--pg-engine: what the HTTP layer costs in front of PostgreSQL. In one run, on one PostgreSQL 15 cluster:
1. pgbench straight to PostgreSQL (-M prepared, 64 server connections at 64 clients) on a freshly seeded database;
2. `monolite serve --db postgresql://…` on another freshly seeded database of the same cluster, under wrk with
   the same statements, at --pg-pool 8, 16 and 64 for 64 clients (8, the default, for 1 client);
both with synchronous_commit on, then off (PGOPTIONS for both); then
3. monolite on SQLite (the main comparison's target) for the same workloads, --synchronous full and normal.
Ratios: monolite+PG / pgbench (same cluster, same setting) and monolite+PG / monolite+SQLite (matching
durability: on <-> FULL, off <-> NORMAL)."""
import time
import urllib.error
import urllib.request

from . import prom, report  # report imports this module: table() is looked up when called
from .loadgen import pg_session_env, run_wrk
from .phases import (CLIENTS, PAIRS, ROWS, Context, check_server_log, fresh_copy, make_sqlite_db, monolite_workloads,
                     pgbench_workloads, seed_pg_database)
from .procs import Monolite, Postgres

WORKLOADS = ("point_read", "insert")
POOLS = (8, 16, 64)  # --pg-pool for the 64-client runs; the first (monolite's default) also runs 1 client
SYNCS = ("on", "off")
SQLITE_DURABILITY = {pg: sqlite for sqlite, pg in PAIRS}  # synchronous_commit -> matching --synchronous
TARGET_VS_PGBENCH = 0.8  # monolite+PG / pgbench at 64 clients
TARGETS = {"pgbench": "pgbench", "pg": "monolite+PG", "sqlite": "monolite+SQLite"}


def wait_ready(srv: Monolite, seconds: float = 15) -> None:
    """/readyz answers 200 once the pool has made a connection to PostgreSQL."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(srv.url + "/readyz", timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"monolite on PostgreSQL not ready after {seconds} s; see {srv.log}")
        time.sleep(0.05)


def wait_idle(srv: Monolite, idle, what: str, seconds: float = 30) -> None:
    """wrk stops with requests in flight and the server still runs them (an insert may commit after wrk
    exits): returns once idle(samples of /metrics) holds, so that the rows counted next are all there."""
    deadline = time.monotonic() + seconds
    while not idle(prom.scrape(srv.url)):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} still busy {seconds} s after the load stopped")
        time.sleep(0.05)


def pool_idle(srv: Monolite) -> None:
    """No request waits for a PostgreSQL connection and every open connection is idle."""
    def idle(samples):
        conns = {labels.get("state"): v for name, labels, v in samples if name == "monolite_pg_connections"}
        return prom.value(samples, "monolite_pg_waiting") == 0 and conns.get("open") == conns.get("idle")
    wait_idle(srv, idle, "monolite's PostgreSQL pool")


def writer_idle(srv: Monolite) -> None:
    wait_idle(srv, lambda samples: prom.value(samples, "monolite_writer_queue_depth", -1) == 0, "monolite's writer")


def monolite_pg_runs(ctx: Context, pg: Postgres, sync: str) -> list:
    """One server per pool size, each on the same database (seeded once, like pgbench's)."""
    database = seed_pg_database(pg, f"monolite_sync_{sync}")
    out = []
    for pool in POOLS:
        log = ctx.run_dir / f"monolite-pg-{sync}-pool{pool}.log"
        with Monolite(ctx.monolite_bin, pg.url(database), "normal", ctx.ledger, log, extra=("--pg-pool", pool),
                      env=pg_session_env(sync)) as srv:
            wait_ready(srv)
            setting = srv.scalar("SELECT current_setting('synchronous_commit')")
            if setting != sync:
                ctx.note(f"monolite on PostgreSQL ran with synchronous_commit={setting}, not {sync}")
            run_wrk(srv.url, "point_read", 64, ctx.warmup, ROWS)
            clients = CLIENTS if pool == POOLS[0] else (64,)
            runs = monolite_workloads(ctx, srv, f"sync {sync}", WORKLOADS, clients, TARGETS["pg"], pool_idle)
        check_server_log(ctx, srv, f"monolite on PostgreSQL sync {sync} pool {pool}")
        out += [{**e, "pool": pool} for e in runs]
    return out


def sqlite_runs(ctx: Context) -> list:
    seed = make_sqlite_db(ctx.run_dir / "pg-engine-seed.db")
    out = []
    for sync, _ in PAIRS:
        db = fresh_copy(ctx, seed, f"pg-engine-sqlite-{sync}.db")
        log = ctx.run_dir / f"pg-engine-sqlite-{sync}.log"
        with Monolite(ctx.monolite_bin, db, sync.lower(), ctx.ledger, log) as srv:
            run_wrk(srv.url, "point_read", 64, ctx.warmup, ROWS)
            out += monolite_workloads(ctx, srv, sync, WORKLOADS, CLIENTS, TARGETS["sqlite"], writer_idle)
        check_server_log(ctx, srv, f"monolite on SQLite {sync}")
    return out


def run(ctx: Context, doc: dict) -> None:
    log_dir = ctx.run_dir / "pgbench-logs"
    log_dir.mkdir(exist_ok=True)
    doc["results"] = []
    ctx.log("PostgreSQL: initdb, start")
    with Postgres(ctx.run_dir / "pg-engine", ctx.ledger) as pg:
        for sync in SYNCS:
            database = seed_pg_database(pg, f"pgbench_sync_{sync}")
            doc["results"] += pgbench_workloads(ctx, pg, sync, log_dir, WORKLOADS, database, TARGETS["pgbench"])
            doc["results"] += monolite_pg_runs(ctx, pg, sync)
    doc["results"] += sqlite_runs(ctx)
    doc["ratios"] = ratios(doc["results"])


def ratios(results: list) -> list:
    """Each monolite+PG run against pgbench and monolite+SQLite with the same workload, clients, durability."""
    by_key = {(r["target"], r["durability"], r["workload"], r["clients"]): r for r in results if "pool" not in r}
    out = []
    for r in (r for r in results if r["target"] == TARGETS["pg"]):
        sync = r["durability"].split()[-1]
        pgbench = by_key.get((TARGETS["pgbench"], r["durability"], r["workload"], r["clients"]))
        sqlite = by_key.get((TARGETS["sqlite"], SQLITE_DURABILITY[sync], r["workload"], r["clients"]))
        row = {"durability": r["durability"], "workload": r["workload"], "clients": r["clients"], "pool": r["pool"],
               "vs_pgbench": round(r["rps"] / pgbench["rps"], 2) if pgbench and pgbench["rps"] else None,
               "vs_sqlite": round(r["rps"] / sqlite["rps"], 2) if sqlite and sqlite["rps"] else None,
               "sqlite_durability": SQLITE_DURABILITY[sync]}
        if r["clients"] == 64 and row["vs_pgbench"] is not None:
            row["target"] = TARGET_VS_PGBENCH
            row["status"] = "PASS" if row["vs_pgbench"] >= TARGET_VS_PGBENCH else "MISS"
        out.append(row)
    return out


def _results_table(results: list) -> str:
    rows = [(r["workload"], r["clients"], r["target"], r["durability"], r.get("pool", ""), f"{r['rps']:,.0f}",
             f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", r["errors"], r.get("rows_added", ""))
            for r in sorted(results, key=lambda r: (r["workload"], -r["clients"]))]
    return report.table(rows, ("workload", "clients", "target", "durability", "pool", "ops/s", "p50 ms", "p99 ms",
                               "errors", "rows added"))


def _ratio_table(ratio_rows: list) -> str:
    fmt = lambda v: "-" if v is None else f"{v:.2f}x"
    rows = [(r["workload"], r["clients"], r["durability"], r["pool"], fmt(r["vs_pgbench"]),
             f">= {r['target']}x {r['status']}" if "target" in r else "", fmt(r["vs_sqlite"]), r["sqlite_durability"])
            for r in sorted(ratio_rows, key=lambda r: (r["workload"], -r["clients"], r["durability"], r["pool"]))]
    return report.table(rows, ("workload", "clients", "PG durability", "pool", "/ pgbench", "target",
                               "/ monolite+SQLite", "SQLite durability"))


def render(doc: dict) -> str:
    return "\n".join([
        "  pgbench: -M prepared, one server connection per client (64 at 64 clients); monolite+PG: wrk over HTTP, "
        "at most --pg-pool server connections; each on its own freshly seeded database of one cluster",
        _results_table(doc.get("results", [])), "",
        "Ratios (ops/s) of monolite+PG to pgbench (same cluster and synchronous_commit) and to monolite+SQLite "
        "(matching durability):",
        _ratio_table(doc.get("ratios", []))])
