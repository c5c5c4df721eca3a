"""Load generators: wrk (HTTP targets) and pgbench (PostgreSQL). Both return the same record:
{"rps", "p50_ms", "p99_ms", "p999_ms", "requests", "errors", "seconds", ...}."""
import json
import math
import re
import subprocess
from pathlib import Path

from .procs import env_with

BENCH = Path(__file__).resolve().parent.parent
WRK_DIR = BENCH / "wrk"
PGBENCH_DIR = BENCH / "pgbench"


def threads_for(clients: int) -> int:
    """wrk -t / pgbench -j: 2 (one per core) unless there is a single client."""
    return min(2, clients)


def percentile(sorted_values: list, p: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def record(rps, latencies_us: tuple, requests, errors, seconds, **extra) -> dict:
    p50, p99, p999 = (round(v / 1000, 3) for v in latencies_us)
    return {"rps": round(rps, 1), "p50_ms": p50, "p99_ms": p99, "p999_ms": p999,
            "requests": requests, "errors": errors, "seconds": round(seconds, 2), **extra}


def run_wrk(url: str, workload: str, clients: int, seconds: float, rows: int, env: dict | None = None) -> dict:
    """wrk -t{1|2} -c{clients} with bench/wrk/{workload}.lua; latencies from the script's done().
    env: extra environment for the script (e.g. BENCH_RATE for insert_paced.lua)."""
    cmd = ["wrk", f"-t{threads_for(clients)}", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
           "-s", str(WRK_DIR / f"{workload}.lua"), url]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60,
                       env=env_with(BENCH_WRK_DIR=WRK_DIR, BENCH_ROWS=rows,
                                BENCH_THREADS=threads_for(clients), **(env or {})))
    line = next((l for l in p.stdout.splitlines() if l.startswith("BENCH_RESULT ")), None)
    if p.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stderr.strip()} {p.stdout[-500:]}")
    r = json.loads(line.split(" ", 1)[1])
    errors = {k[len("errors_"):]: v for k, v in r.items() if k.startswith("errors_") and v}
    secs = r["duration_us"] / 1e6
    return record(r["requests"] / secs, (r["p50_us"], r["p99_us"], r["p999_us"]), r["requests"],
                  sum(errors.values()), secs, error_kinds=errors, reads=r["reads"],
                  writes=r["writes"], load=f"wrk -t{threads_for(clients)} -c{clients}")


def pg_session_env(sync: str) -> dict:
    """libpq reads PGOPTIONS: synchronous_commit per session, for pgbench and monolite alike."""
    return env_with(PGOPTIONS=f"-c synchronous_commit={sync}")


def run_pgbench(pg, workload: str, clients: int, seconds: float, rows: int, sync: str,
                log_dir: Path, database: str = "postgres") -> dict:
    """pgbench -M prepared with bench/pgbench/{workload}.sql; latencies from --log files."""
    prefix = log_dir / f"{database}-{workload}-c{clients}-sync_{sync}"
    for old in log_dir.glob(prefix.name + ".*"):
        old.unlink()
    j = threads_for(clients)
    cmd = ["pgbench", *pg.conn_args(), "-n", "-M", "prepared", "-c", str(clients), "-j", str(j),
           "-T", str(max(1, round(seconds))), "-D", f"rows={rows}", "-f", str(PGBENCH_DIR / f"{workload}.sql"),
           "--log", f"--log-prefix={prefix}", database]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 120, env=pg_session_env(sync))
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", p.stdout)
    if tps is None:
        raise RuntimeError(f"pgbench failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    latencies, failed = [], 0
    for f in log_dir.glob(prefix.name + ".*"):
        for line in f.read_text().splitlines():
            fields = line.split()
            if fields[2] in ("failed", "skipped"):
                failed += 1
            else:
                latencies.append(int(fields[2]))
    latencies.sort()
    aborted = len(re.findall(r"aborted", p.stderr))
    return record(float(tps.group(1)), tuple(percentile(latencies, q) for q in (50, 99, 99.9)),
                  len(latencies), failed + aborted, seconds,
                  load=f"pgbench -M prepared -c {clients} -j {j}")
