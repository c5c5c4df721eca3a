"""The benchmark phases. Each returns plain dicts that report.py prints and cli.py saves."""
import json
import shutil
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from . import rss
from .loadgen import BENCH, run_pgbench, run_wrk
from .procs import Ledger, Monolite, Postgres, run

WORKLOADS = ("point_read", "range_read", "insert", "mix")
CLIENTS = (64, 1)
HALF_LOAD_CLIENTS = (4, 8)
ROWS = 100_000
# Pairs with matching durability: (monolite --synchronous, PostgreSQL synchronous_commit).
PAIRS = (("NORMAL", "off"), ("FULL", "on"))


@dataclass
class Context:
    run_dir: Path
    ledger: Ledger
    monolite_bin: Path
    loop_bin: Path
    seconds: float
    warmup: float
    notes: list = field(default_factory=list)

    def log(self, msg: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)

    def note(self, msg: str) -> None:
        self.notes.append(msg)
        self.log("NOTE: " + msg)


def make_sqlite_db(path: Path, rows: int = ROWS, pad: int = 0) -> Path:
    """The seed.sql database, built with the sqlite3 CLI (fast pragmas; the server turns on WAL)."""
    prelude = (f".parameter set @rows {rows}\n.parameter set @pad {pad}\n"
               "PRAGMA journal_mode=OFF;\nPRAGMA synchronous=OFF;\nPRAGMA cache_size=-262144;\n")
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    subprocess.run(["sqlite3", str(tmp)], input=prelude + (BENCH / "seed.sql").read_text(),
                   text=True, check=True, capture_output=True)
    tmp.rename(path)
    return path


def fresh_copy(ctx: Context, src: Path, name: str) -> Path:
    dst = ctx.run_dir / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(dst) + suffix).unlink(missing_ok=True)
    shutil.copyfile(src, dst)
    return dst


def entry(target: str, durability: str, workload: str, clients: int, rec: dict) -> dict:
    """One measured run; the 1-minute load average at its end shows what else was using the CPU."""
    return {"target": target, "durability": durability, "workload": workload, "clients": clients,
            **rec, "loadavg_1m": float(Path("/proc/loadavg").read_text().split()[0])}


def check_server_log(ctx: Context, srv: Monolite, name: str) -> None:
    """Warnings and errors the server logged, and a shutdown that did not exit 0."""
    if srv.exit_code != 0:
        ctx.note(f"{name} exited {srv.exit_code} after SIGTERM (expected 0)")
    for line in srv.log.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            rec = {"level": "?", "msg": line}
        if rec.get("level") not in ("info", "debug"):
            ctx.note(f"{name} logged: {line[:300]}")


def check_errors(ctx: Context, e: dict) -> None:
    if e["errors"]:
        ctx.note(f"{e['target']} {e['durability']} {e['workload']}@{e['clients']}: "
                 f"{e['errors']} errors {e.get('error_kinds', '')}")


# --- the in-process limit --------------------------------------------------------------------

def sqlite_loop(ctx: Context, seed: Path) -> list:
    out = []
    for sync, _ in PAIRS:
        db = fresh_copy(ctx, seed, f"loop-{sync}.db")
        ctx.log(f"sqlite loop, synchronous={sync}")
        text = run([ctx.loop_bin, "--db", db, "--synchronous", sync.lower(),
                    "--seconds", max(1.0, ctx.seconds / 3), "--rows", ROWS])
        for line in text.splitlines():
            r = json.loads(line)
            out.append({"target": "sqlite_loop", "durability": sync, "workload": r["test"],
                        "ops_per_s": r["ops_per_s"], "ops": r["ops"]})
    return out


# --- monolite -----------------------------------------------------------------------------------

def monolite_workload(ctx: Context, srv: Monolite, sync: str, workload: str, clients: int,
                      target: str = "monolite", settle=None) -> dict:
    """settle(srv), if given, returns once the requests wrk left behind are done, before rows are counted."""
    before = srv.scalar("SELECT count(*) FROM events") if workload in ("insert", "mix") else None
    ctx.log(f"{target} {sync:6} {workload}@{clients}")
    e = entry(target, sync, workload, clients, run_wrk(srv.url, workload, clients, ctx.seconds, ROWS))
    if settle:
        settle(srv)
    if before is not None:
        e["rows_added"] = srv.scalar("SELECT count(*) FROM events") - before
        # wrk generated e["writes"] requests; up to one per connection may still be in flight.
        if not e["writes"] - clients <= e["rows_added"] <= e["writes"]:
            ctx.note(f"{target} {sync} {workload}@{clients}: {e['writes']} inserts sent, "
                     f"events grew by {e['rows_added']}")
    check_errors(ctx, e)
    return e


def monolite_workloads(ctx: Context, srv: Monolite, sync: str, workloads=WORKLOADS, clients=CLIENTS,
                       target: str = "monolite", settle=None) -> list:
    """Each workload at each client count, in that order, against one running server."""
    return [monolite_workload(ctx, srv, sync, w, c, target, settle) for w in workloads for c in clients]


def monolite_suite(ctx: Context, seed: Path, sync: str) -> dict:
    """All workloads at 64 and 1 clients; with NORMAL also the ceiling, partial load and RSS."""
    db = fresh_copy(ctx, seed, f"monolite-{sync}.db")
    out = {"results": []}
    with Monolite(ctx.monolite_bin, db, sync.lower(), ctx.ledger, ctx.run_dir / f"monolite-{sync}.log") as srv:
        if sync == "NORMAL":
            ctx.log("monolite RSS idle and with 256 idle keep-alive connections")
            out["rss"] = rss.idle_and_connections(srv.pid, srv.port)
        run_wrk(srv.url, "point_read", 64, ctx.warmup, ROWS)
        out["results"] += monolite_workloads(ctx, srv, sync)
        if sync == "NORMAL":
            out["results"] += http_ceiling(ctx, srv)
            out["half_load"] = partial_load(ctx, srv, out["results"])
            out["rss"]["after_load"] = rss.breakdown(srv.pid)
    check_server_log(ctx, srv, f"monolite {sync}")
    return out


def http_ceiling(ctx: Context, srv: Monolite) -> list:
    out = []
    for clients in CLIENTS:
        ctx.log(f"HTTP ceiling GET /healthz@{clients}")
        e = entry("ceiling", "-", "healthz", clients, run_wrk(srv.url, "healthz", clients, ctx.seconds, ROWS))
        check_errors(ctx, e)
        out.append(e)
    return out


def partial_load(ctx: Context, srv: Monolite, results: list) -> list:
    """wrk has no rate limit: fewer connections stand in for 'half load'."""
    top = next(r for r in results if r["workload"] == "point_read" and r["clients"] == 64)
    out = []
    for clients in HALF_LOAD_CLIENTS:
        ctx.log(f"monolite point_read@{clients} (partial load)")
        r = run_wrk(srv.url, "point_read", clients, ctx.seconds, ROWS)
        out.append({"clients": clients, "rps": r["rps"], "p50_ms": r["p50_ms"], "p99_ms": r["p99_ms"],
                    "p999_ms": r["p999_ms"], "percent_of_max": round(100 * r["rps"] / top["rps"]),
                    "max_rps": top["rps"], "max_p99_ms": top["p99_ms"]})
    return out


# --- PostgreSQL ---------------------------------------------------------------------------------

def seed_pg_database(pg: Postgres, database: str = "postgres") -> str:
    """pg_seed.sql into DATABASE (created unless it is the default one)."""
    if database != "postgres":
        pg.psql("-c", f"CREATE DATABASE {database}")
    pg.psql_in(database, "-v", f"rows={ROWS}", "-f", BENCH / "pg_seed.sql")
    return database


def pgbench_workloads(ctx: Context, pg: Postgres, sync: str, log_dir: Path, workloads=WORKLOADS,
                      database: str = "postgres", target: str = "postgres") -> list:
    """A warm-up, then each workload at each client count; inserts are checked against the table."""
    run_pgbench(pg, "point_read", 64, ctx.warmup, ROWS, sync, log_dir, database)
    out = []
    for workload in workloads:
        for clients in CLIENTS:
            before = pg.scalar_in(database, "SELECT count(*) FROM events") if workload == "insert" else None
            ctx.log(f"{target} sync {sync:3} {workload}@{clients}")
            e = entry(target, f"sync {sync}", workload, clients,
                      run_pgbench(pg, workload, clients, ctx.seconds, ROWS, sync, log_dir, database))
            if before is not None:
                e["rows_added"] = int(pg.scalar_in(database, "SELECT count(*) FROM events")) - int(before)
                # pgbench logs each transaction it finished; ones cut off at -T may still have committed.
                if not e["requests"] <= e["rows_added"] <= e["requests"] + clients:
                    ctx.note(f"{target} sync {sync} insert@{clients}: {e['requests']} inserts logged, "
                             f"events grew by {e['rows_added']}")
            check_errors(ctx, e)
            out.append(e)
    return out


def pg_suite(ctx: Context) -> list:
    out = []
    log_dir = ctx.run_dir / "pgbench-logs"
    log_dir.mkdir(exist_ok=True)
    ctx.log("PostgreSQL: initdb, start, load")
    with Postgres(ctx.run_dir / "pg", ctx.ledger) as pg:
        seed_pg_database(pg)
        for _, sync in PAIRS:
            out += pgbench_workloads(ctx, pg, sync, log_dir)
    return out


# --- soak ---------------------------------------------------------------------------------------

def soak(ctx: Context, seed: Path, seconds: int) -> dict:
    db = fresh_copy(ctx, seed, "soak.db")
    with Monolite(ctx.monolite_bin, db, "normal", ctx.ledger, ctx.run_dir / "monolite-soak.log") as srv:
        ctx.log(f"soak: mix@64 for {seconds} s, RSS every 10 s")
        with ThreadPoolExecutor(1) as pool:
            job = pool.submit(run_wrk, srv.url, "mix", 64, seconds, ROWS)
            samples = rss.sample_while(srv.pid, lambda: not job.done())
            r = job.result()
        final = rss.breakdown(srv.pid)
    check_server_log(ctx, srv, "monolite soak")
    e = entry("monolite", "NORMAL", "mix (soak)", 64, r)
    check_errors(ctx, e)
    return {"seconds": seconds, "result": e, "rss_samples_mib": samples, "rss_first_mib": samples[0],
            "rss_last_mib": samples[-1], "rss_max_mib": max(samples), "rss_at_end": final}
