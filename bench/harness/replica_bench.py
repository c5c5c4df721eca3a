"""--replicas: what libSQL embedded replicas buy and what serving them costs the primary. In one run:
1. point reads (bench/wrk/point_read.lua's statement, random ids over the seeded accounts), same data, three ways:
   an embedded replica of @libsql/client reading its local file after one sync (a closed loop in one Node process,
   bench/replica/embedded_reads.mjs), the server's HTTP /sql/query (wrk with point_read.lua, as the main comparison,
   and one Node process with as many concurrent keep-alive fetches, so that both sides of a ratio have the same
   client runtime), and Hrana through @libsql/client (url: http://...), at 64 and 1 concurrent requests;
2. insert@64 (wrk insert.lua, as the main comparison, --synchronous normal) on two servers up side by side, one with
   the replication log off (--replication-log-max-bytes 0), one with it on (the default), in runs of half the
   usual length alternated as (off, on, on+replica, on+replica, on, off) twice, so that a machine getting busier or
   quieter weighs on every variant alike, and compared by their medians; in the on+replica runs an embedded replica
   (a fresh one each run, synced once before the load) syncs back to back during the load, then must catch up with
   every row inserted.
The log takes the writer's frames asynchronously (the writer never waits for it), so what it costs is CPU and disk
bandwidth shared with the writer; each insert run records the server's CPU seconds per insert."""
import dataclasses
import json
import os
import select
import statistics
import subprocess
from pathlib import Path

from . import pg_engine_bench, prom, report  # report imports this module: both looked up when called
from .loadgen import BENCH, run_wrk
from .phases import CLIENTS, ROWS, Context, check_errors, check_server_log, entry, fresh_copy, make_sqlite_db, \
    monolite_workload
from .procs import Monolite

NODE_SCRIPT = BENCH / "replica" / "embedded_reads.mjs"
INSERT_CLIENTS = 64
INSERT_ORDER = ("off", "on", "on+replica", "on+replica", "on", "off") * 2
TARGET_ON_OFF = 0.95  # insert ops/s with the replication log on / off
LOG_OFF = ("--replication-log-max-bytes", 0)
PATHS = {"embedded": "embedded replica (local file)", "wrk": "HTTP /sql/query (wrk)",
         "http": "HTTP /sql/query (Node fetch)", "hrana": "Hrana (@libsql/client)"}


# --- Node ---------------------------------------------------------------------------------------

def node_run(ctx: Context, mode: str, *args, seconds: float = 0) -> dict:
    """One run of embedded_reads.mjs MODE; its JSON line as a loadgen-style record."""
    cmd = ["node", NODE_SCRIPT, mode, *args, "--rows", ROWS, "--seconds", seconds, "--warmup", ctx.warmup]
    p = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, timeout=seconds + ctx.warmup + 120)
    if p.returncode != 0 or not p.stdout.strip():
        raise RuntimeError(f"{NODE_SCRIPT.name} {mode} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    ms = lambda us: round(us / 1000, 3) if us is not None else float("nan")
    extra = {k: r[k] for k in ("initial_sync_ms", "frame_no") if k in r}
    return {"rps": round(r["ops"] / r["seconds"], 1), "p50_ms": ms(r["p50_us"]), "p99_ms": ms(r["p99_us"]),
            "p999_ms": ms(r["p999_us"]), "requests": r["ops"], "errors": r["errors"],
            "error_kinds": r["error_kinds"], "seconds": round(r["seconds"], 2), "client_cpu_s": round(r["cpu_s"], 2),
            "load": f"node {NODE_SCRIPT.name} {mode}, {r['clients']} concurrent", **extra}


class SyncingReplica:
    """embedded_reads.mjs sync-loop against SRV while the `with` block runs; finish() ends the loop and says how
    the replica caught up."""

    def __init__(self, ctx: Context, srv: Monolite, local: Path):
        self.ctx, self.srv, self.local = ctx, srv, local
        self.ready: dict = {}
        self.outcome: dict = {}

    def __enter__(self):
        cmd = ["node", NODE_SCRIPT, "sync-loop", "--sync-url", self.srv.url, "--local", self.local]
        self._stderr = open(self.local.with_suffix(".log"), "w")
        self.proc = subprocess.Popen(list(map(str, cmd)), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, text=True)
        self._entry = f"pid {self.proc.pid} embedded_reads"
        self.ctx.ledger.add(self._entry)
        try:
            self.ready = self._line(120)
        except Exception:
            self._stop()
            raise
        return self

    def _line(self, seconds: float) -> dict:
        if not select.select([self.proc.stdout], [], [], seconds)[0]:
            raise RuntimeError(f"sync-loop said nothing for {seconds} s; see {self.local.with_suffix('.log')}")
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"sync-loop exited {self.proc.wait()}; see {self.local.with_suffix('.log')}")
        return json.loads(line)

    def finish(self, expected_events: int) -> dict:
        """Stops the loop; the replica then syncs until it holds `expected_events` rows of events."""
        self.proc.stdin.write(f"stop {expected_events}\n")
        self.proc.stdin.flush()
        self.outcome = self._line(90)
        return self.outcome

    def _stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._stderr.close()
        self.ctx.ledger.remove(self._entry)

    def __exit__(self, *exc):
        self._stop()


# --- 1. point reads -----------------------------------------------------------------------------

def read_entry(ctx: Context, path: str, clients: int, rec: dict) -> dict:
    e = {**entry(PATHS[path], "NORMAL", "point_read", clients, rec), "path": path}
    check_errors(ctx, e)
    return e


def point_reads(ctx: Context, seed: Path) -> dict:
    db = fresh_copy(ctx, seed, "replicas-reads.db")
    out = []
    with Monolite(ctx.monolite_bin, db, "normal", ctx.ledger, ctx.run_dir / "monolite-replicas-reads.log") as srv:
        run_wrk(srv.url, "point_read", INSERT_CLIENTS, ctx.warmup, ROWS)
        ctx.log("point_read: embedded replica, closed loop of 1")
        local = ctx.run_dir / "replicas-embedded" / "local.db"
        local.parent.mkdir()
        out.append(read_entry(ctx, "embedded", 1, node_run(ctx, "embedded", "--sync-url", srv.url, "--local", local,
                                                           seconds=ctx.seconds)))
        for clients in CLIENTS:
            ctx.log(f"point_read@{clients}: HTTP (wrk), HTTP (Node fetch), Hrana")
            out.append(read_entry(ctx, "wrk", clients, run_wrk(srv.url, "point_read", clients, ctx.seconds, ROWS)))
            for path in ("http", "hrana"):
                rec = node_run(ctx, path, "--url", srv.url, "--clients", clients, seconds=ctx.seconds)
                out.append(read_entry(ctx, path, clients, rec))
    check_server_log(ctx, srv, "monolite (point reads)")
    return {"results": out, "ratios": read_ratios(out)}


def read_ratios(results: list) -> list:
    """The embedded replica's ops/s and p50/p99 against each server path at each concurrency."""
    emb = next(r for r in results if r["path"] == "embedded")
    ratio = lambda a, b: round(a / b, 2) if b else None
    return [{"versus": r["target"], "clients": r["clients"], "ops": ratio(emb["rps"], r["rps"]),
             "p50": ratio(r["p50_ms"], emb["p50_ms"]), "p99": ratio(r["p99_ms"], emb["p99_ms"])}
            for r in results if r["path"] != "embedded"]


# --- 2. inserts with the replication log off / on / on with a syncing replica ------------------

def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


def insert_run(ctx: Context, srv: Monolite, variant: str, replica_dir: Path | None) -> dict:
    load = lambda: monolite_workload(ctx, srv, f"log {variant}", "insert", INSERT_CLIENTS,
                                     settle=pg_engine_bench.writer_idle)
    cpu0 = cpu_seconds(srv.pid)
    if replica_dir is None:
        e = load()
    else:
        replica_dir.mkdir()
        with SyncingReplica(ctx, srv, replica_dir / "local.db") as rep:
            e = load()
            expected = srv.scalar("SELECT count(*) FROM events")
            e["replica"] = rep.finish(expected)
        if e["replica"]["events"] != expected or e["replica"]["errors"]:
            ctx.note(f"insert log {variant}: the replica holds {e['replica']['events']} events after catching up "
                     f"(primary {expected}), {e['replica']['errors']} sync errors ({e['replica']['last_error']})")
    cpu = cpu_seconds(srv.pid) - cpu0
    return {**e, "variant": variant, "server_cpu_s": round(cpu, 2),
            "server_cpu_us_per_insert": round(1e6 * cpu / e["rows_added"], 1) if e.get("rows_added") else None}


def log_counters(srv: Monolite) -> dict:
    samples = prom.scrape(srv.url)
    names = ("next_frame", "first_frame", "bytes", "generations_total", "dropped_commits_total")
    return {n: prom.value(samples, f"monolite_replication_log_{n}") for n in names} | \
        {"snapshots_total": prom.value(samples, "monolite_replication_snapshots_total")}


def inserts(ctx: Context, seed: Path) -> dict:
    dbs = {v: fresh_copy(ctx, seed, f"replicas-log-{v}.db") for v in ("off", "on")}
    servers = {v: Monolite(ctx.monolite_bin, dbs[v], "normal", ctx.ledger, ctx.run_dir / f"monolite-log-{v}.log",
                           extra=LOG_OFF if v == "off" else ()) for v in dbs}
    runs = []
    short = dataclasses.replace(ctx, seconds=max(3.0, ctx.seconds / 2))
    with servers["off"] as off, servers["on"] as on:
        for srv in (off, on):
            run_wrk(srv.url, "point_read", INSERT_CLIENTS, ctx.warmup, ROWS)
        for i, variant in enumerate(INSERT_ORDER):
            srv = off if variant == "off" else on
            replica_dir = ctx.run_dir / f"replicas-sync-{i}" if variant == "on+replica" else None
            runs.append({**insert_run(short, srv, variant, replica_dir), "order": i + 1})
        counters = log_counters(on)
    for v, srv in servers.items():
        check_server_log(ctx, srv, f"monolite replication log {v}")
    if counters["dropped_commits_total"]:
        ctx.note(f"the replication log dropped {counters['dropped_commits_total']:.0f} commits (it fell behind)")
    return {"runs": runs, "log": counters, "ratios": insert_ratios(runs)}


def insert_ratios(runs: list) -> list:
    median = lambda v, k: statistics.median(r[k] for r in runs if r["variant"] == v)
    base = median("off", "rps")
    out = []
    for v in ("on", "on+replica"):
        row = {"ratio": f"insert@{INSERT_CLIENTS} log {v} / log off", "value": round(median(v, "rps") / base, 3),
               "rps": median(v, "rps"), "rps_off": base,
               "cpu_per_insert": round(median(v, "server_cpu_us_per_insert") /
                                       median("off", "server_cpu_us_per_insert"), 2)}
        if v == "on":
            row |= {"target": TARGET_ON_OFF, "status": "PASS" if row["value"] >= TARGET_ON_OFF else "MISS"}
        out.append(row)
    return out


def run(ctx: Context, doc: dict) -> None:
    seed = make_sqlite_db(ctx.run_dir / "replicas-seed.db")
    doc["reads"] = point_reads(ctx, seed)
    doc["inserts"] = inserts(ctx, seed)


# --- the printed part -----------------------------------------------------------------------------

def _reads_table(results: list) -> str:
    rows = [(r["workload"], r["clients"], r["target"], f"{r['rps']:,.0f}", f"{r['p50_ms']:.3f}", f"{r['p99_ms']:.3f}",
             f"{r['p999_ms']:.3f}", r["errors"], r.get("client_cpu_s", "")) for r in results]
    return report.table(rows, ("workload", "clients", "path", "ops/s", "p50 ms", "p99 ms", "p999 ms", "errors",
                               "client CPU s"))


def _read_ratio_table(ratios: list) -> str:
    fmt = lambda v: "-" if v is None else f"{v:.2f}x"
    rows = [(r["versus"], r["clients"], fmt(r["ops"]), fmt(r["p50"]), fmt(r["p99"])) for r in ratios]
    return report.table(rows, ("embedded replica (1 in a closed loop) vs", "clients", "ops/s embedded / it",
                               "p50 it / embedded", "p99 it / embedded"))


def _insert_table(runs: list) -> str:
    rows = []
    for r in runs:
        rep = r.get("replica", {})
        rows.append((r["order"], r["variant"], f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}",
                     r["errors"], r.get("rows_added", ""), r["server_cpu_us_per_insert"], r["loadavg_1m"],
                     *(_replica_cells(rep) if rep else ("", "", "", ""))))
    return report.table(rows, ("run", "replication log", "ops/s", "p50 ms", "p99 ms", "errors", "rows added",
                               "server CPU us/insert", "load 1m", "replica syncs/s", "frames synced",
                               "catch-up ms", "frames/s applied"))


def _replica_cells(rep: dict) -> tuple:
    """The syncing replica: syncs/s during the load, frames it applied in all, and at what rate."""
    applying_s = rep["loop_seconds"] + rep["caught_up_ms"] / 1000
    return (f"{rep['syncs_per_s']:,.0f}", f"{rep['frames_synced']:,}", f"{rep['caught_up_ms']:,.0f}",
            f"{rep['frames_synced'] / applying_s:,.0f}")


def _insert_ratio_table(ratios: list) -> str:
    rows = [(r["ratio"], f"{r['rps']:,.0f} / {r['rps_off']:,.0f}", f"{r['value']:.3f}x",
             f">= {r['target']}x {r['status']}" if "target" in r else "", f"{r['cpu_per_insert']:.2f}x")
            for r in ratios]
    return report.table(rows, ("ratio (medians of the runs)", "ops/s", "/ log off", "target", "server CPU/insert"))


def render(doc: dict) -> str:
    out = []
    if "reads" in doc:
        out += ["  same seeded database; the embedded replica synced once, then read its local file; wrk -t2 "
                "(-t1 for 1 client); Node fetch and Hrana from one Node process",
                _reads_table(doc["reads"]["results"]), "", _read_ratio_table(doc["reads"]["ratios"])]
    if "inserts" in doc:
        log = doc["inserts"]["log"]
        seconds = doc["inserts"]["runs"][0]["seconds"]
        out += ["", f"  insert@{INSERT_CLIENTS} (wrk insert.lua, --synchronous normal), two servers side by side, "
                f"runs of {seconds:.0f} s; on+replica: an embedded replica (Node) syncing back to back on the same "
                "machine during the run; catch-up: from the load's end to the replica holding every row",
                _insert_table(doc["inserts"]["runs"]), "", _insert_ratio_table(doc["inserts"]["ratios"]),
                f"  replication log at the end: frames {log['first_frame']:.0f}..{log['next_frame']:.0f}, "
                f"{log['bytes'] / 2**20:,.1f} MiB, {log['generations_total']:.0f} generations, "
                f"{log['dropped_commits_total']:.0f} dropped commits, {log['snapshots_total']:.0f} snapshots served"]
    return "\n".join(out)
