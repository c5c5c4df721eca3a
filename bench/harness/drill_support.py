"""What the drills (drills.py) share: their scale, restoring and checking a database file, waiting
for a replica to catch up, sampling RSS, and moto_server behind the fault proxy."""
import contextlib
import hashlib
import json
import os
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import prom
from .integration import FaultProxy, MotoServer, moto_pid
from .phases import Context
from .procs import Background, rss_kib

MIB = 1 << 20
RESTORE_TIMEOUT_S = 600


@dataclass(frozen=True)
class Scale:
    async_cycles: int
    sync_cycles: int
    fault_seconds: float
    quick: bool


FULL = Scale(async_cycles=20, sync_cycles=10, fault_seconds=60, quick=False)
QUICK = Scale(async_cycles=5, sync_cycles=3, fault_seconds=15, quick=True)


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-walmark"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def restore(ctx: Context, url: str, output: Path, *extra, env: dict | None = None) -> dict:
    """`monolite restore --json` into `output` (removed first): its outcome, wall seconds, and how
    many retries it logged (one stderr line per retried request)."""
    remove_db(output)
    cmd = [ctx.monolite_bin, "restore", "-o", output, "--replica", url, "--json", *extra]
    t0 = time.monotonic()
    p = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, env=env, timeout=RESTORE_TIMEOUT_S)
    seconds = time.monotonic() - t0
    try:
        out = json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else {}
    except ValueError:
        out = {}
    return {"ok": p.returncode == 0 and out.get("outcome") == "restored", "exit": p.returncode,
            "seconds": round(seconds, 3), "retries": p.stderr.count("retrying after attempt"),
            "json": out, "stderr_tail": p.stderr.strip()[-600:]}


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def integrity(path: Path) -> str:
    """PRAGMA integrity_check of a file no server writes to: "ok" or the problems, joined."""
    con = _read_only(path)
    try:
        return "; ".join(r[0] for r in con.execute("PRAGMA integrity_check"))[:300]
    finally:
        con.close()


def ids(path: Path, table: str = "load") -> set:
    con = _read_only(path)
    try:
        return {r[0] for r in con.execute(f"SELECT id FROM {table}")}
    finally:
        con.close()


def digest(path: Path, sql: str) -> dict:
    """Row count and SHA-256 of what `sql` returns (ordered), read-only: the server may be running
    (WAL readers do not disturb it)."""
    h, rows = hashlib.sha256(), 0
    con = _read_only(path)
    try:
        for row in con.execute(sql):
            h.update(repr(row).encode())
            rows += 1
    finally:
        con.close()
    return {"rows": rows, "sha256": h.hexdigest()[:16]}


def wait_caught_up(srv, seconds: float, snapshots: int = 1, interval_s: float = 0.5) -> float:
    """Until the replica has no frame left to upload and this process uploaded `snapshots`
    snapshots, seen twice in a row: the gauges are refreshed when the uploader runs (once per
    interval), so one reading may be from before the last commits. Returns the seconds it took."""
    t0, clean = time.monotonic(), 0
    while clean < 2:
        if time.monotonic() - t0 > seconds:
            raise TimeoutError(f"the replica did not catch up within {seconds:.0f} s")
        s = prom.scrape(srv.url)
        ok = prom.value(s, "monolite_replica_lag_frames", -1) == 0 and \
            prom.value(s, "monolite_replica_snapshots_total") >= snapshots
        clean = clean + 1 if ok else 0
        time.sleep(interval_s)  # between readings: let the uploader run once more
    return round(time.monotonic() - t0, 2)


def replica_counters(srv) -> dict:
    s = prom.scrape(srv.url)
    return {k: prom.value(s, f"monolite_replica_{k}_total") for k in ("objects", "errors", "snapshots")}


class RssSampler(Background):
    """VmRSS of `pid` every `interval` s on a thread, until stop(): the peak and every sample (MiB)."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval = pid, interval
        self.samples: list = []
        super().__init__()

    def _run(self):
        while not self._stop.is_set():
            self.samples.append(rss_kib(self.pid) / 1024)
            self._stop.wait(self.interval)  # the sampling period, not a wait for a condition

    @property
    def peak_mib(self) -> float:
        return max(self.samples, default=0.0)


@contextlib.contextmanager
def moto_behind_proxy(ctx: Context):
    """moto_server in auth mode (every request signed) on the ledger, and a FaultProxy in front."""
    s3 = MotoServer()
    s3.start()
    entry = f"pid {moto_pid(s3)} moto"
    ctx.ledger.add(entry)
    proxy = FaultProxy(s3.port)
    try:
        yield s3, proxy
    finally:
        proxy.stop()
        s3.stop()
        ctx.ledger.remove(entry)


def via(s3, proxy, prefix: str, **params) -> str:
    """The replica URL of `prefix` on `s3`, through `proxy`."""
    url = s3.url(prefix, force_path_style="true", **params)
    return url.replace(f"127.0.0.1%3A{s3.port}", f"127.0.0.1%3A{proxy.port}")


def s3_env(s3) -> dict:
    """This environment plus the AWS_* variables of moto's access key."""
    return {**os.environ, **s3.env()}


def log_levels(log: Path) -> dict:
    """How many lines of each level a server logged (JSON lines)."""
    levels: dict = {}
    for line in log.read_text(errors="replace").splitlines():
        try:
            level = json.loads(line).get("level", "?")
        except ValueError:
            level = "?"
        levels[level] = levels.get(level, 0) + 1
    return levels

