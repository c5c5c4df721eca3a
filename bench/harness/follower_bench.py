"""--followers: read followers (`serve --follow`) next to their primary (monolite --synchronous normal), one run:
1. Lag at paced write rates (LAG_RATES, one follower): wrk insert_paced.lua on the primary, plus a probe that
   writes one row every PROBE_INTERVAL s on a keep-alive connection of its own, takes X-Monolite-Frame from the
   answer and at once sends the follower `SELECT 1` with X-Monolite-Min-Frame (answered as soon as that frame is
   applied): lag = acknowledgement -> answer. Every 10th probe also times the same query without the header (the
   follower's round trip, included in each lag sample). A sampler reads the primary's
   monolite_replication_log_next_frame and the follower's monolite_follow_applied_frame every 0.1 s: lag in frames.
2. insert@64 (wrk insert.lua, the main comparison's insert load) on a fresh primary with 0, 1 and 2 followers,
   alternating (0, 1, 2) ROUNDS times; followers start on an empty file (snapshot), are caught up before the
   measured run and must catch up after it with the primary's row count; CPU seconds of every process from /proc."""
import http.client
import json
import os
import shutil
import statistics
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from pathlib import Path

from . import prom, report
from .loadgen import percentile, run_wrk
from .phases import ROWS, Context, check_errors, check_server_log, entry, fresh_copy, make_sqlite_db
from .procs import Background, Monolite

LAG_RATES = (1_000, 10_000)  # total inserts/s on the primary (wrk + probe)
LAG_CLIENTS = 64
PROBE_INTERVAL = 0.02  # s between probe writes (50/s)
FRAME_SAMPLE_INTERVAL = 0.1
FOLLOWER_COUNTS = (0, 1, 2)
ROUNDS = 2
CLIENTS = 64
TARGET_RATIO_TWO = 0.9  # insert req/s with two followers / with none
TICK = os.sysconf("SC_CLK_TCK")
INSERT = json.dumps({"sql": "INSERT INTO events(account_id, payload) VALUES(?, ?)", "params": [1, "follower-probe"]})
SELECT_ONE = json.dumps({"sql": "SELECT 1", "params": []})


# --- processes --------------------------------------------------------------------------------

def wait_until(predicate, seconds: float, what: str) -> float:
    """Polls predicate() every 20 ms; returns how long it took."""
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > seconds:
            raise TimeoutError(f"{what} within {seconds:.0f} s")
        time.sleep(0.02)
    return time.monotonic() - t0


def ready(srv: Monolite) -> bool:
    try:
        with urllib.request.urlopen(srv.url + "/readyz", timeout=5) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def primary_last_frame(primary: Monolite) -> float:
    return prom.metric(primary, "monolite_replication_log_next_frame") - 1


def caught_up(primary: Monolite, followers: list) -> bool:
    last = primary_last_frame(primary)
    return all(prom.metric(f, "monolite_follow_applied_frame") >= last for f in followers)


def writer_idle(primary: Monolite) -> bool:
    return prom.value(prom.scrape(primary.url), "monolite_writer_queue_depth", -1) == 0


@contextmanager
def cluster(ctx: Context, seed: Path, followers: int, name: str):
    """A primary on a fresh copy of seed and `followers` followers on empty files, all ready."""
    db = fresh_copy(ctx, seed, f"{name}-primary.db")
    with ExitStack() as stack:
        primary = stack.enter_context(Monolite(ctx.monolite_bin, db, "normal", ctx.ledger,
                                               ctx.run_dir / f"{name}-primary.log"))
        started = [stack.enter_context(Monolite(ctx.monolite_bin, ctx.run_dir / f"{name}-f{i}.db", "normal",
                                                ctx.ledger, ctx.run_dir / f"{name}-f{i}.log",
                                                extra=("--follow", primary.url)))
                   for i in range(followers)]
        for f in started:
            wait_until(lambda: ready(f), 60, f"follower {f.db.name} not ready (no snapshot)")
        yield primary, started
    for srv in (primary, *started):
        check_server_log(ctx, srv, f"{name} {srv.db.name}")
    for path in ctx.run_dir.glob(f"{name}-*.db*"):  # the databases, their -wal, -replog/, -follow-state, ...
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idle and iowait (/proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / TICK


class CpuMeter:
    """CPU seconds of the servers, of waited children (wrk) and of the whole machine between start() and stop()."""

    def __init__(self, servers: dict):
        self.servers = servers

    def _read(self) -> dict:
        t = os.times()
        return {"servers": {k: cpu_seconds(s.pid) for k, s in self.servers.items()},
                "wrk": t.children_user + t.children_system, "machine": machine_busy_seconds(),
                "harness": t.user + t.system}

    def start(self) -> None:
        self.before = self._read()

    def stop(self) -> dict:
        after, before = self._read(), self.before
        out = {k: round(v - before["servers"][k], 2) for k, v in after["servers"].items()}
        out.update({k: round(after[k] - before[k], 2) for k in ("wrk", "harness", "machine")})
        ours = sum(after["servers"].values()) - sum(before["servers"].values()) + out["wrk"] + out["harness"]
        out["others"] = round(out["machine"] - ours, 2)  # everything else on the (shared) machine
        return out


# --- 1. lag at a paced write rate ------------------------------------------------------------

def post(conn: http.client.HTTPConnection, path: str, body: str, headers: dict) -> tuple:
    conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
    r = conn.getresponse()
    r.read()
    return r.status, r.getheader("X-Monolite-Frame")


class LagProbe(Background):
    """Writes to the primary, then waits on the follower for the answer's frame; times ack -> applied."""

    def __init__(self, primary: Monolite, follower: Monolite):
        super().__init__()
        self.primary, self.follower = primary, follower
        self.lags_ms, self.baseline_ms, self.failures = [], [], []

    def _run(self):
        p = http.client.HTTPConnection("127.0.0.1", self.primary.port, timeout=30)
        f = http.client.HTTPConnection("127.0.0.1", self.follower.port, timeout=30)
        next_at = time.monotonic()
        while not self._stop.is_set():
            self._probe(p, f)
            next_at = max(next_at + PROBE_INTERVAL, time.monotonic())
            self._stop.wait(next_at - time.monotonic())  # the probe's own pacing, not a wait for a condition

    def _probe(self, p, f) -> None:
        status, frame = post(p, "/sql/execute", INSERT, {})
        acked = time.monotonic()
        if status != 200 or frame is None:
            self.failures.append(f"write {status}, frame {frame}")
            return
        status, _ = post(f, "/sql/query", SELECT_ONE, {"X-Monolite-Min-Frame": frame})
        if status != 200:
            self.failures.append(f"wait for frame {frame}: {status}")
            return
        self.lags_ms.append((time.monotonic() - acked) * 1000)
        if len(self.lags_ms) % 10 == 0:
            t = time.monotonic()
            post(f, "/sql/query", SELECT_ONE, {})
            self.baseline_ms.append((time.monotonic() - t) * 1000)


class FrameSampler(Background):
    """Primary's last logged frame minus each follower's applied frame, every `interval` s."""

    def __init__(self, primary: Monolite, followers: list, interval: float = FRAME_SAMPLE_INTERVAL):
        super().__init__()
        self.primary, self.followers, self.interval = primary, followers, interval
        self.samples, self.gauge_seconds = [], []

    def _run(self):
        while not self._stop.wait(self.interval):
            last = primary_last_frame(self.primary)
            for f in self.followers:
                s = prom.scrape(f.url)
                self.samples.append(max(0.0, last - prom.value(s, "monolite_follow_applied_frame")))
                self.gauge_seconds.append(prom.value(s, "monolite_follow_lag_seconds"))


def spread(values: list, digits: int = 2) -> dict:
    v = sorted(values)
    if not v:
        return {"samples": 0}
    return {"samples": len(v), "p50": round(percentile(v, 50), digits), "p99": round(percentile(v, 99), digits),
            "max": round(v[-1], digits), "mean": round(statistics.fmean(v), digits)}


def lag_run(ctx: Context, seed: Path, rate: int) -> dict:
    with cluster(ctx, seed, 1, f"lag{rate}") as (primary, (follower,)):
        run_wrk(primary.url, "insert", CLIENTS, ctx.warmup, ROWS)
        wait_until(lambda: caught_up(primary, [follower]), 60, "the follower did not catch up after the warm-up")
        wrk_rate = rate - round(1 / PROBE_INTERVAL)
        ctx.log(f"followers: lag at {rate:,} inserts/s (wrk {wrk_rate:,}/s + probe) for {ctx.seconds:.0f} s")
        meter = CpuMeter({"primary": primary, "follower": follower})
        meter.start()
        with LagProbe(primary, follower) as probe, FrameSampler(primary, [follower]) as frames:
            load = run_wrk(primary.url, "insert_paced", LAG_CLIENTS, ctx.seconds, ROWS, {"BENCH_RATE": wrk_rate})
        cpu = meter.stop()
        wait_until(lambda: writer_idle(primary) and caught_up(primary, [follower]), 60, "the follower did not catch up")
    e = entry("primary+1 follower", "NORMAL", "insert_paced", LAG_CLIENTS, load)
    check_errors(ctx, e)
    for msg in probe.failures[:5]:
        ctx.note(f"followers lag at {rate}/s: probe {msg} ({len(probe.failures)} failures in all)")
    achieved = load["rps"] + len(probe.lags_ms) / load["seconds"]
    return {"target_rate": rate, "achieved_rate": round(achieved), "load": e, "lag_ms": spread(probe.lags_ms),
            "follower_round_trip_ms": spread(probe.baseline_ms, 3), "probe_failures": len(probe.failures),
            "lag_frames": spread(frames.samples, 0), "lag_gauge_s": spread(frames.gauge_seconds, 3), "cpu_s": cpu}


# --- 2. insert throughput with 0, 1, 2 followers --------------------------------------------

def throughput_run(ctx: Context, seed: Path, n: int, round_no: int) -> dict:
    with cluster(ctx, seed, n, f"tp{round_no}-{n}") as (primary, followers):
        run_wrk(primary.url, "insert", CLIENTS, ctx.warmup, ROWS)
        wait_until(lambda: writer_idle(primary) and caught_up(primary, followers), 60, "followers not caught up")
        before = primary.scalar("SELECT count(*) FROM events")
        ctx.log(f"followers: insert@{CLIENTS} with {n} follower(s), round {round_no}")
        meter = CpuMeter({"primary": primary, **{f"follower{i}": f for i, f in enumerate(followers)}})
        meter.start()
        with FrameSampler(primary, followers, 0.25) as frames:
            load = run_wrk(primary.url, "insert", CLIENTS, ctx.seconds, ROWS)
        cpu = meter.stop()
        load_end = time.monotonic()
        wait_until(lambda: writer_idle(primary), 30, "the primary's writer still busy")
        wait_until(lambda: caught_up(primary, followers), 60, "followers did not catch up")
        catch_up = round(time.monotonic() - load_end, 3) if followers else None  # from the end of the load
        rows = primary.scalar("SELECT count(*) FROM events")
        mismatched = [f.db.name for f in followers if f.scalar("SELECT count(*) FROM events") != rows]
    e = entry(f"primary+{n} followers", "NORMAL", "insert", CLIENTS, load)
    check_errors(ctx, e)
    if mismatched:
        ctx.note(f"followers round {round_no} n={n}: {mismatched} hold another row count than the primary's {rows}")
    per_insert = lambda seconds: round(seconds / max(1, rows - before) * 1e6, 2)  # CPU us per row added
    follower_cpu = sum(v for k, v in cpu.items() if k.startswith("follower"))
    return {**e, "followers": n, "round": round_no, "rows_added": rows - before, "cpu_s": cpu,
            "cpu_us_per_insert": {"primary": per_insert(cpu["primary"]), "wrk": per_insert(cpu["wrk"]),
                                  "per_follower": per_insert(follower_cpu / n) if n else None},
            "lag_frames": spread(frames.samples, 0), "catch_up_after_load_s": catch_up,
            "rows_match": not mismatched}


def summary(runs: list) -> list:
    mean = lambda n: statistics.fmean(r["rps"] for r in runs if r["followers"] == n)
    base = mean(0)
    out = []
    for n in FOLLOWER_COUNTS:
        row = {"followers": n, "rps_mean": round(mean(n)), "ratio_to_0": round(mean(n) / base, 3)}
        if n == 2:
            row.update(target=TARGET_RATIO_TWO, status="PASS" if row["ratio_to_0"] >= TARGET_RATIO_TWO else "MISS")
        out.append(row)
    return out


def run(ctx: Context, doc: dict) -> None:
    seed = make_sqlite_db(ctx.run_dir / "followers-seed.db")
    doc["lag"] = [lag_run(ctx, seed, rate) for rate in LAG_RATES]
    doc["throughput"] = [throughput_run(ctx, seed, n, r) for r in range(1, ROUNDS + 1) for n in FOLLOWER_COUNTS]
    doc["summary"] = summary(doc["throughput"])


# --- the printed section -------------------------------------------------------------------------

def _lag_table(lag: list) -> str:
    rows = [(f"{r['target_rate']:,}/s", f"{r['achieved_rate']:,}", r["load"]["errors"], r["lag_ms"]["samples"],
             f"{r['lag_ms']['p50']:.2f}", f"{r['lag_ms']['p99']:.2f}", f"{r['lag_ms']['max']:.2f}",
             f"{r['follower_round_trip_ms']['p50']:.2f}", f"{r['lag_frames']['p50']:.0f}",
             f"{r['lag_frames']['p99']:.0f}", f"{r['cpu_s']['primary']:.1f}", f"{r['cpu_s']['follower']:.1f}",
             f"{r['cpu_s']['others']:.1f}") for r in lag]
    return report.table(rows, ("rate", "reached/s", "errors", "probes", "lag p50 ms", "p99 ms", "max ms", "rtt ms",
                               "frames p50", "frames p99", "cpu primary", "cpu follower", "cpu others"))


def _throughput_table(runs: list) -> str:
    rows = [(r["round"], r["followers"], f"{r['rps']:,.0f}", f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", r["errors"],
             f"{r['cpu_s']['primary']:.1f}",
             f"{sum(v for k, v in r['cpu_s'].items() if k.startswith('follower')):.1f}", f"{r['cpu_s']['wrk']:.1f}",
             f"{r['cpu_s']['others']:.1f}", f"{r['cpu_us_per_insert']['primary']:.1f}",
             "" if not r["followers"] else f"{r['cpu_us_per_insert']['per_follower']:.1f}", f"{r['loadavg_1m']:.2f}",
             "" if r["catch_up_after_load_s"] is None else f"{r['catch_up_after_load_s']:.2f}",
             "" if not r["followers"] else ("yes" if r["rows_match"] else "NO")) for r in runs]
    return report.table(rows, ("round", "followers", "req/s", "p50 ms", "p99 ms", "errors", "cpu primary",
                               "cpu followers", "cpu wrk", "cpu others", "us/insert primary",
                               "us/insert follower", "load 1m", "catch-up s", "rows match"))


def render(doc: dict) -> str:
    """The section, from as much of doc as a (possibly aborted) run filled in."""
    summ = report.table([(s["followers"], f"{s['rps_mean']:,}", f"{s['ratio_to_0']:.2f}x",
                          f">= {s['target']}x {s['status']}" if "target" in s else "") for s in doc.get("summary", [])],
                        ("followers", "mean req/s", "/ 0 followers", "target"))
    return "\n".join([
        "", "Read followers (bench/harness/follower_bench.py; primary --synchronous normal, followers on loopback):",
        f"  lag: one follower; wrk insert_paced.lua -c{LAG_CLIENTS} plus a probe write every "
        f"{PROBE_INTERVAL * 1000:.0f} ms timed from its acknowledgement to the follower's answer to "
        "X-Monolite-Min-Frame (rtt: that answer without the header, included in each sample); frames: primary's last logged frame minus "
        f"the follower's applied one every {FRAME_SAMPLE_INTERVAL} s; cpu: CPU seconds during the run",
        _lag_table(doc.get("lag", [])), "",
        f"  insert@{CLIENTS} (wrk insert.lua) with 0, 1, 2 followers, alternating; cpu: CPU seconds during the run "
        "(others: the rest of the machine); us/insert: CPU microseconds per row added",
        _throughput_table(doc.get("throughput", [])), "", summ])
