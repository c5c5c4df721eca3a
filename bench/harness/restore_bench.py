"""--replication, restore: a ~1 GiB database served with a file replica (the full snapshot of the new
generation is timed at start), some inserts so that WAL segments follow it, then `monolite restore`
timed, and PRAGMA integrity_check timed on its own. Also a probe of what one file-store upload costs
on this disk (write, fsync, rename, fsync of the folder: replica/file_store.cpp)."""
import os
import re
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

from .loadgen import BENCH, percentile, run_wrk
from .phases import ROWS, Context, check_server_log, fresh_copy
from .procs import Monolite
from .prom import counters, wait_shipped, wait_snapshot
from .restore_probes import InsertClient, log_time, progress_times, run_sampled, stall_report

CACHE = BENCH / ".cache"
DEFAULT_GIB = 1           # the database to restore: at least this many GiB (--restore-gib)
TARGET_MB_S = 400         # restore from a file replica, database bytes (10^6) per second
RSS_TARGET_MIB = 256      # peak memory of monolite restore
CHUNK = 500_000           # events rows per insert while building it
SUMMARY = re.compile(r"(\d+) WAL segments, ([\d.]+) MB database, ([\d.]+) MB downloaded in ([\d.]+) s")
# ~120 characters per row, half random hex (LZ4 barely compresses it), half a repeated text.
FILL = ("INSERT INTO events(account_id, payload) WITH RECURSIVE c(i) AS "
        "(SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?) "
        f"SELECT 1 + abs(random()) % {ROWS}, hex(randomblob(48)) || '-event-payload-0123456789' FROM c")


def build_db(ctx: Context, gib: int = DEFAULT_GIB) -> Path:
    """Built once with Python's sqlite3 (the seed's 100K accounts, then events until >= gib GiB),
    left in WAL mode, cached in bench/.cache/restore-<gib>g.db."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"restore-{gib}g.db"
    if path.exists():
        return path
    ctx.log(f"building {path.name} (cached for next time; {shutil.disk_usage(CACHE).free / 2**30:.0f} GiB free)")
    t0, tmp = time.monotonic(), path.with_name(path.name + ".part")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;"
                      + (BENCH / "seed.sql").read_text().replace("@rows", str(ROWS)).replace("@pad", "0"))
    while tmp.stat().st_size < gib << 30:
        con.execute(FILL, (CHUNK,))
        con.commit()
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    tmp.rename(path)
    ctx.log(f"built {path.name}: {path.stat().st_size / 2**30:.2f} GiB in {time.monotonic() - t0:.0f} s")
    return path


def fsync_probe(folder: Path, n: int = 50, size: int = 64 << 10) -> dict:
    """n object uploads the way the file store does them; ms each (p50, p99) and uploads/s."""
    probe = folder / "fsync-probe"
    probe.mkdir(exist_ok=True)
    data, times = os.urandom(size), []
    dfd = os.open(probe, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in range(n):
            t = time.perf_counter()
            fd = os.open(probe / "tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, data), os.fsync(fd), os.close(fd)
            os.rename(probe / "tmp", probe / f"obj-{i}"), os.fsync(dfd)
            times.append((time.perf_counter() - t) * 1000)
    finally:
        os.close(dfd)
        shutil.rmtree(probe, ignore_errors=True)
    times.sort()
    return {"object_kib": size >> 10, "p50_ms": round(percentile(times, 50), 2),
            "p99_ms": round(percentile(times, 99), 2), "uploads_per_s": round(1000 * n / sum(times), 1)}


def evict(folder: Path) -> None:
    """Drops the replica's files (only those) from the page cache, so restore reads the disk."""
    for f in folder.rglob("*"):
        if f.is_file():
            fd = os.open(f, os.O_RDONLY)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            os.close(fd)


def serve_and_snapshot(ctx: Context, db: Path, replica: Path) -> dict:
    """Starts serving with the replica and times the first snapshot; single-row inserts from one
    client run from the moment it listens until 3 s after the snapshot is in (the commit stall),
    then 64 clients write for 3 s so that WAL segments follow the snapshot."""
    t0, launch = time.monotonic(), time.time()
    log = ctx.run_dir / "monolite-restore.log"
    log.unlink(missing_ok=True)
    with Monolite(ctx.monolite_bin, db, "normal", ctx.ledger, log,
                  extra=("--replica", f"file://{replica}")) as srv:
        listening = time.monotonic() - t0
        with InsertClient(srv.port, ROWS) as client:
            wait_snapshot(srv, 1800)
            snapshot_s, seen = time.monotonic() - t0, time.time()
            ctx.log(f"restore: snapshot in the replica after {snapshot_s:.1f} s; one client kept inserting "
                    "during it, 3 s more")
            time.sleep(3)  # the measurement after the snapshot lasts 3 s
        end = log_time(log, "snapshot uploaded")
        stall = stall_report(client.writes, client.errors, launch, log_time(log, "starting a new generation"),
                             end if end is not None else seen, seen)
        run_wrk(srv.url, "insert", 64, 3, ROWS)
        wait_shipped(srv)
        out = {"snapshot_s": round(snapshot_s, 2), "listening_s": round(listening, 2), "uploaded": counters(srv),
               "commit_stall": stall}
    check_server_log(ctx, srv, "monolite restore source")
    # Counted once the server has stopped: inserts still queued when wrk stopped commit after it.
    out["events_rows"] = int(timed(["sqlite3", db, "SELECT count(*) FROM events"])[0].stdout)
    snaps = list(replica.glob("generations/*/snapshots/*"))
    out["snapshot_bytes"] = sum(f.stat().st_size for f in snaps)
    out["segments"] = len(list(replica.glob("generations/*/wal/*")))
    return out


def timed(cmd: list) -> tuple:
    t = time.monotonic()
    p = subprocess.run(list(map(str, cmd)), capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p, time.monotonic() - t


def restore(ctx: Context, gib: int = DEFAULT_GIB) -> dict:
    src = build_db(ctx, gib)
    db, replica, restored = fresh_copy(ctx, src, "restore-src.db"), ctx.run_dir / "replica-restore", \
        ctx.run_dir / "restored.db"
    try:
        served = serve_and_snapshot(ctx, db, replica)
        evict(replica)
        ctx.log("restore: monolite restore (replica files evicted from the page cache first)")
        cmd = [ctx.monolite_bin, "restore", "-o", restored, "--replica", f"file://{replica}"]
        p, wall, memory, lines = run_sampled(cmd)
        m = SUMMARY.search(p.stderr)
        if not m:
            raise RuntimeError(f"no summary line from monolite restore: {p.stderr[-1000:]}")
        check, check_s = timed(["sqlite3", restored, "PRAGMA integrity_check"])
        count, _ = timed(["sqlite3", restored, "SELECT count(*) FROM events"])
        db_bytes, seconds = restored.stat().st_size, float(m.group(4))
        if check.stdout.strip() != "ok" or int(count.stdout) != served["events_rows"]:
            ctx.note(f"restore: integrity_check {check.stdout.strip()[:200]!r}, events "
                     f"{count.stdout.strip()} restored vs {served['events_rows']} in the source after it stopped")
        return {**served, **memory, **progress_times(lines), "gib": gib, "db_bytes": db_bytes,
                "segments_applied": int(m.group(1)),
                "downloaded_mib": float(m.group(3)), "restore_s": seconds, "restore_wall_s": round(wall, 2),
                "mib_per_s": round(db_bytes / 2**20 / seconds, 1), "mb_per_s": round(db_bytes / 1e6 / seconds, 1),
                "integrity_check_s": round(check_s, 2), "integrity_ok": check.stdout.strip() == "ok",
                "mib_per_s_without_integrity_check": round(db_bytes / 2**20 / max(0.001, seconds - check_s), 1),
                "snapshot_mib_per_s": round(db_bytes / 2**20 / served["snapshot_s"], 1),
                "summary": p.stderr.strip().splitlines()[-1]}
    finally:
        for f in (db, restored):
            for suffix in ("", "-wal", "-shm"):
                Path(str(f) + suffix).unlink(missing_ok=True)
        shutil.rmtree(replica, ignore_errors=True)
