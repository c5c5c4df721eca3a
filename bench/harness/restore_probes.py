"""What restore_bench.py watches besides the clock: the memory of `monolite restore` (its
/proc/PID/status every 0.05 s) and the latency of single-row commits while the server's first
snapshot uploads (one client, back to back, one keep-alive connection)."""
import http.client
import json
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

from .loadgen import percentile
from .procs import Background

STALL_TARGET_MS = 50       # longest commit while a big snapshot uploads
INSERT = "INSERT INTO events(account_id, payload) VALUES(?, ?)"


# --- memory of a running process ---------------------------------------------------------------

def status_kib(pid: int) -> dict:
    """The kB fields of /proc/PID/status ({} once the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if rest.strip().endswith(" kB"):
            out[name] = int(rest.split()[0])
    return out


def run_sampled(cmd: list, interval: float = 0.05) -> tuple:
    """Runs cmd to its end, sampling VmRSS, RssAnon and RssFile every `interval` s (and VmHWM, the
    kernel's own peak, at the last sample that could still read it); its stderr lines are kept with
    the second each arrived. Returns (CompletedProcess, wall s, memory, [(s, line)])."""
    t0 = time.monotonic()
    proc = subprocess.Popen(list(map(str, cmd)), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend((time.monotonic() - t0, l) for l in proc.stderr))
    reader.start()  # drains the pipe so the process never blocks on it
    peak = {"VmRSS": 0, "RssAnon": 0, "RssFile": 0}
    hwm, samples = None, 0
    while proc.poll() is None:
        s = status_kib(proc.pid)
        if s:
            samples += 1
            for f in peak:
                peak[f] = max(peak[f], s.get(f, 0))
            hwm = s.get("VmHWM", hwm)
        time.sleep(interval)
    reader.join()
    wall = time.monotonic() - t0
    done = subprocess.CompletedProcess(proc.args, proc.returncode, "", "".join(l for _, l in lines))
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(done.args)} exited {done.returncode}: {done.stderr.strip()[-2000:]}")
    mem = {"peak_rss_mib": round(peak["VmRSS"] / 1024, 1), "peak_anon_mib": round(peak["RssAnon"] / 1024, 1),
           "peak_file_mib": round(peak["RssFile"] / 1024, 1),
           "vm_hwm_mib": round(hwm / 1024, 1) if hwm is not None else None, "memory_samples": samples,
           "memory_interval_s": interval}
    return done, wall, mem, lines


def progress_times(lines: list) -> dict:
    """When restore said it applied its first and last hundred WAL segments (s after launch)."""
    applied = [t for t, l in lines if l.startswith("applied ")]
    return {"first_applied_100_s": round(applied[0], 2) if applied else None,
            "last_applied_100_s": round(applied[-1], 2) if applied else None}


# --- commit latency while the snapshot uploads -----------------------------------------------------

class InsertClient(Background):
    """Single-row inserts back to back on one keep-alive connection, each recorded as
    (start, end) in wall-clock seconds (time.time(), comparable with the server log's ts)."""
    join_timeout = 60

    def __init__(self, port: int, rows: int):
        self.port, self.rows = port, rows
        self.writes: list = []
        self.errors = 0
        super().__init__()

    def _run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        i = 0
        try:
            while not self._stop.is_set():
                i += 1
                body = json.dumps({"sql": INSERT, "params": [1 + i % self.rows, "commit-stall-probe"]})
                t = time.time()
                conn.request("POST", "/sql/execute", body, {"Content-Type": "application/json"})
                r = conn.getresponse()
                r.read()
                self.writes.append((t, time.time()))
                self.errors += r.status != 200
        finally:
            conn.close()


def log_time(log: Path, msg: str) -> float | None:
    """Wall-clock time of the first server log line with this msg (None if there is none)."""
    for line in log.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == msg and "ts" in rec:
            return datetime.fromisoformat(rec["ts"].replace("Z", "+00:00")).timestamp()
    return None


def latency_stats(writes: list, launch: float) -> dict:
    """Latency percentiles; the slow writes (>= the target) as [s after launch it started, ms]."""
    ms = sorted((e - s) * 1000 for s, e in writes)
    if not ms:
        return {"count": 0, "p50_ms": None, "p99_ms": None, "max_ms": None, "over_target": 0, "slow": []}
    slow = [[round(s - launch, 3), round((e - s) * 1000, 1)] for s, e in writes
            if (e - s) * 1000 >= STALL_TARGET_MS]
    return {"count": len(ms), "over_target": len(slow), "slow": slow[:20], "p50_ms": round(percentile(ms, 50), 2),
            "p99_ms": round(percentile(ms, 99), 2), "max_ms": round(ms[-1], 2)}


def stall_report(writes: list, errors: int, launch: float, snap_start: float | None, snap_end: float,
                 seen_end: float) -> dict:
    """Writes overlapping the upload [snap_start, snap_end] vs those started after snap_end (the
    3 s after it). Times relative to launch, so that the spans can be compared."""
    start = snap_start if snap_start is not None else launch
    during = [w for w in writes if w[1] >= start and w[0] <= snap_end]
    after = [w for w in writes if w[0] > snap_end]
    rel = lambda t: round(t - launch, 3) if t is not None else None
    d = latency_stats(during, launch)
    out = {"during": d, "after": latency_stats(after, launch), "errors": errors,
           "snapshot_start_s": rel(snap_start), "snapshot_end_s": rel(snap_end), "snapshot_seen_s": rel(seen_end),
           "snapshot_times_from": "server log" if snap_start is not None else "launch / metrics poll",
           "writes_first_s": rel(writes[0][0]) if writes else None,
           "writes_during_last_s": rel(during[-1][1]) if during else None,
           "target_max_ms": STALL_TARGET_MS}
    span = snap_end - start
    covered = (min(snap_end, during[-1][1]) - max(start, during[0][0])) if during else 0.0
    out["overlap_fraction"] = round(covered / span, 3) if span > 0 else 0.0
    out["status"] = "PASS" if d["max_ms"] is not None and d["max_ms"] < STALL_TARGET_MS else "MISS"
    return out
