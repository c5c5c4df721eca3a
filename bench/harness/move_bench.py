"""--move: the escape hatch measured on a ~1 GiB database (bench/.cache/move-<N>g.db):
1. `monolite move` into PostgreSQL 15 vs Debian's pgloader into another database of the same
   cluster, one after the other in one run: seconds, rows/s, MB/s (database file bytes) and the ratio;
2. the cut-over: `monolite serve` under a stream of inserts, `monolite move --cutover` (read-only,
   move, verify): the write outage = end of the move − last acknowledged write before the refusals,
   and every acknowledged row must be in PostgreSQL;
3. the cost of /admin/status: point reads at 64 clients with and without a poller asking for it every
   second, alternated A B A B … so that drift on a shared machine hits both; medians compared."""
import json
import shutil
import sqlite3
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from .loadgen import BENCH, run_wrk
from .phases import ROWS, Context, fresh_copy, make_sqlite_db
from .procs import Background, Monolite, Postgres

CACHE = BENCH / ".cache"
TARGET_RATIO = 2.0       # monolite move rows/s ÷ pgloader rows/s
TARGET_OUTAGE_S = 60     # cut-over write outage for 1 GiB
TARGET_STATUS = 0.98     # point reads while /admin/status is polled ÷ without (medians of ROUNDS runs each)
ROUNDS = 4
ORDERS_PER_CHUNK = 500_000
SCHEMA = """
CREATE TABLE customers(id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT, created_at DATETIME NOT NULL);
CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id),
  status TEXT NOT NULL, amount REAL NOT NULL, paid BOOLEAN NOT NULL, created_at DATETIME NOT NULL,
  note TEXT, receipt BLOB);
CREATE INDEX orders_by_customer ON orders(customer_id, created_at);
"""
CUSTOMERS = 100_000
FILL_CUSTOMERS = ("INSERT INTO customers WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
                  "SELECT i, 'user' || i || '@example.com', 'Customer ' || i, "
                  "datetime(1700000000 + i * 60, 'unixepoch') FROM c")
FILL_ORDERS = ("INSERT INTO orders(customer_id, status, amount, paid, created_at, note, receipt) "
               "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
               f"SELECT 1 + abs(random()) % {CUSTOMERS}, CASE abs(random()) % 3 WHEN 0 THEN 'new' WHEN 1 THEN 'paid' "
               "ELSE 'shipped' END, (abs(random()) % 100000) / 100.0, abs(random()) % 2, "
               "datetime(1700000000 + abs(random()) % 30000000, 'unixepoch'), "
               "'order note ' || hex(randomblob(24)), randomblob(32) FROM c")


def build_db(ctx: Context, gib: float) -> Path:
    """Customers and orders until the file holds >= gib GiB; cached for the next run."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"move-{gib:g}g.db"
    if path.exists():
        return path
    ctx.log(f"building {path.name} (cached for next time)")
    tmp = path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;" + SCHEMA)
    con.execute(FILL_CUSTOMERS, (CUSTOMERS,))
    while tmp.stat().st_size < gib * 2**30:
        con.execute(FILL_ORDERS, (ORDERS_PER_CHUNK,))
        con.commit()
    con.close()
    tmp.rename(path)
    return path


def row_count(db: Path) -> int:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("customers", "orders"))
    finally:
        con.close()


def timed(cmd: list, log: Path) -> tuple[float, str]:
    t0 = time.monotonic()
    with open(log, "w") as err:
        p = subprocess.run(list(map(str, cmd)), stdout=subprocess.PIPE, stderr=err, text=True)
    seconds = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{cmd[0]} {cmd[1]} exited {p.returncode}; see {log}")
    return seconds, p.stdout


def rates(seconds: float, rows: int, db_bytes: int) -> dict:
    return {"seconds": round(seconds, 1), "rows": rows, "rows_per_s": round(rows / seconds),
            "mb_per_s": round(db_bytes / 1e6 / seconds, 1)}


def move_vs_pgloader(ctx: Context, db: Path, pg: Postgres) -> dict:
    rows, size = row_count(db), db.stat().st_size
    for name in ("moved", "loaded"):
        pg.psql("-c", f"CREATE DATABASE {name}")
    ctx.log(f"monolite move: {rows} rows, {size / 2**30:.2f} GiB")
    seconds, out = timed([ctx.monolite_bin, "move", "--db", db, "--to", pg.url("moved"), "--json"],
                         ctx.run_dir / "move.log")
    summary = json.loads(out)
    ctx.log("pgloader")
    pg_seconds, _ = timed(["pgloader", db, pg.url("loaded")], ctx.run_dir / "pgloader.log")
    loaded = sum(int(pg.scalar_in("loaded", f"SELECT count(*) FROM {t}")) for t in ("customers", "orders"))
    if loaded != rows:
        ctx.note(f"pgloader loaded {loaded} rows of {rows}")
    doc = {"database_bytes": size, "monolite": rates(seconds, rows, size), "pgloader": rates(pg_seconds, loaded, size),
           "monolite_verify": summary.get("verify"), "target_ratio": TARGET_RATIO}
    doc["ratio"] = round(doc["monolite"]["rows_per_s"] / doc["pgloader"]["rows_per_s"], 2)
    return doc


class Inserter(Background):
    """Inserts one row per request as fast as answers come; keeps every acknowledged id and the time
    of the last acknowledged write and of the first READ_ONLY refusal."""

    def __init__(self, url: str):
        super().__init__()
        self.url, self.acknowledged, self.last_ok, self.first_refused, self.other_errors = url, [], 0.0, 0.0, 0

    def _run(self):
        n = 0
        while not self._stop.is_set():
            n += 1
            body = json.dumps({"sql": "INSERT INTO customers(email, name, created_at) VALUES (?, 'cut-over', "
                               "datetime('now'))", "params": [f"cutover{n}@example.com"]}).encode()
            req = urllib.request.Request(self.url + "/sql/execute", data=body,
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    self.acknowledged.append(json.loads(r.read())["results"][0]["last_insert_id"])
                    self.last_ok = time.monotonic()
            except urllib.error.HTTPError as e:
                if e.code == 503 and b"READ_ONLY" in e.read():
                    self.first_refused = self.first_refused or time.monotonic()
                    time.sleep(0.05)  # the client backs off, as Retry-After asks
                else:
                    self.other_errors += 1


def cutover(ctx: Context, seed: Path, pg: Postgres) -> dict:
    db = fresh_copy(ctx, seed, "cutover.db")
    pg.psql("-c", "CREATE DATABASE cutover")
    with Monolite(ctx.monolite_bin, db, "normal", ctx.ledger, ctx.run_dir / "cutover-serve.log") as srv:
        with Inserter(srv.url) as writes:
            deadline = time.monotonic() + 30
            while len(writes.acknowledged) < 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            ctx.log("monolite move --cutover")
            _, out = timed([ctx.monolite_bin, "move", "--cutover", "--url", srv.url, "--db", db,
                            "--to", pg.url("cutover"), "--json"], ctx.run_dir / "cutover.log")
            ended = time.monotonic()
        srv.post("/admin/read-only", {"read_only": False})
    missing = [i for i in writes.acknowledged
               if pg.scalar_in("cutover", f"SELECT count(*) FROM customers WHERE id = {i}") != "1"][:10]
    if missing:
        ctx.note(f"cut-over lost acknowledged writes, e.g. ids {missing}")
    outage = ended - writes.last_ok
    return {"database_bytes": seed.stat().st_size, "outage_s": round(outage, 1), "target_s": TARGET_OUTAGE_S,
            "acknowledged": len(writes.acknowledged), "lost": len(missing), "other_errors": writes.other_errors,
            "summary_verify": json.loads(out).get("verify")}


class StatusPoller(Background):
    def __init__(self, url: str):
        super().__init__()
        self.url, self.polls = url, 0

    def _run(self):
        while not self._stop.wait(1.0):
            with urllib.request.urlopen(self.url + "/admin/status", timeout=10) as r:
                json.loads(r.read())
            self.polls += 1


def status_cost(ctx: Context) -> dict:
    seed = make_sqlite_db(ctx.run_dir / "status-seed.db")
    runs = {"plain": [], "polled": []}
    with Monolite(ctx.monolite_bin, seed, "normal", ctx.ledger, ctx.run_dir / "status.log") as srv:
        run_wrk(srv.url, "point_read", 64, ctx.warmup, ROWS)
        for _ in range(ROUNDS):
            ctx.log("point reads, /admin/status not polled, then polled every second")
            runs["plain"].append(run_wrk(srv.url, "point_read", 64, ctx.seconds, ROWS)["rps"])
            with StatusPoller(srv.url) as poller:
                runs["polled"].append(run_wrk(srv.url, "point_read", 64, ctx.seconds, ROWS)["rps"])
            if poller.polls == 0:
                ctx.note("/admin/status was never answered during the polled run")
    plain, polled = statistics.median(runs["plain"]), statistics.median(runs["polled"])
    return {"point_read_rps": runs, "ratio": round(polled / plain, 3), "target": TARGET_STATUS}


def run(ctx: Context, gib: float, doc: dict, parts: str = "migration,cutover,status") -> None:
    db = build_db(ctx, gib)
    wanted = set(parts.split(","))
    with Postgres(ctx.run_dir / "pg-move", ctx.ledger) as pg:
        if "migration" in wanted:
            doc["migration"] = move_vs_pgloader(ctx, db, pg)
        if "cutover" in wanted:
            doc["cutover"] = cutover(ctx, db, pg)
    if "status" in wanted:
        doc["status_cost"] = status_cost(ctx)


def render(doc: dict) -> str:
    out = []
    m = doc.get("migration")
    if m:
        for name in ("monolite", "pgloader"):
            r = m[name]
            out.append(f"  {name:9} {r['seconds']:8.1f} s  {r['rows']:>10} rows  {r['rows_per_s']:>9} rows/s  "
                       f"{r['mb_per_s']:6.1f} MB/s")
        out.append(f"  ratio monolite/pgloader {m['ratio']:.2f}× (target ≥ {m['target_ratio']}×), "
                   f"{m['database_bytes'] / 2**30:.2f} GiB database; verify: {m['monolite_verify']}")
    c = doc.get("cutover")
    if c:
        out.append(f"  cut-over write outage {c['outage_s']} s (target < {c['target_s']} s); "
                   f"{c['acknowledged']} writes acknowledged, {c['lost']} lost, {c['other_errors']} other errors")
    s = doc.get("status_cost")
    if s:
        out.append(f"  point reads with /admin/status polled each second: {s['ratio']:.3f}× (target ≥ {s['target']}); "
                   f"rps {s['point_read_rps']}")
    return "\n".join(out)
