"""Drill 1, disaster recovery: cycles of serve with a file replica, writes from clients that record
every acknowledgement (HTTP 200), kill -9 at a random moment, `monolite restore` into a fresh path,
PRAGMA integrity_check, and the acknowledged rows the restore lacks. With --replica-sync none may be
missing; in async mode the missing ones must all have been acknowledged within the last
--replica-interval (+ an allowance for the upload) before the kill."""
import random
import shutil
import time

from .drill_support import Scale, ids, integrity, restore, wait_caught_up
from .integration import LOAD_SCHEMA, TimedLoad
from .loadgen import percentile
from .phases import Context
from .procs import Monolite
from .prom import wait_for

INTERVAL = "500ms"          # --replica-interval (the default), async cycles
INTERVAL_S = 0.5
UPLOAD_ALLOWANCE_S = 1.0    # async loss bound: acknowledged at most INTERVAL_S + this before the kill
WRITERS = 4                 # client threads, each one request (two rows: id and -id) at a time
KILL_AFTER_S = (0.5, 3.0)   # the kill comes uniformly at random this long after the first 50 acks
SEED = 14


def serve_and_kill(ctx: Context, folder, mode: str, rng: random.Random) -> tuple:
    """Serves with a replica in `folder`, writes, kills -9: (load, kill time, seconds written, url)."""
    url = f"file://{folder / 'replica'}"
    flags = ("--replica", url, "--replica-interval", INTERVAL, *(("--replica-sync",) if mode == "sync" else ()))
    srv = Monolite(ctx.monolite_bin, folder / "app.db", "normal", ctx.ledger, folder / "monolite.log", extra=flags)
    with srv:
        srv.post("/sql/execute", {"sql": LOAD_SCHEMA})
        wait_caught_up(srv, 60)  # the snapshot is in the replica: before it there is nothing to restore
        load = TimedLoad(srv.port, WRITERS).start()
        started = time.monotonic()
        try:
            wait_for(lambda: load.acked_count() >= 50, 30, "50 writes acknowledged")
            time.sleep(rng.uniform(*KILL_AFTER_S))  # the random moment of the crash (not a wait for anything)
        finally:
            srv.kill9()
            killed_at = time.monotonic()
            load.stop()
    return load, killed_at, killed_at - started, url


def cycle(ctx: Context, mode: str, n: int, rng: random.Random) -> dict:
    folder = ctx.run_dir / f"drill-dr-{mode}-{n}"
    folder.mkdir()
    load, killed_at, written_s, url = serve_and_kill(ctx, folder, mode, rng)
    with load.lock:
        acks = dict(load.acks)
    out = {"mode": mode, "cycle": n, "written_s": round(written_s, 2), "acked": len(acks), "sent": len(load.sent),
           "not_acked_non_2xx": len(load.other_statuses)}
    r = restore(ctx, url, folder / "restored.db")
    out.update(restore_ok=r["ok"], restore_s=r["seconds"],
               segments=r["json"].get("restored", {}).get("segments_applied"))
    if not r["ok"]:
        out["restore_error"] = r["stderr_tail"]
        return out
    got = ids(folder / "restored.db")
    lost = set(acks) - got
    ages = sorted(killed_at - acks[i][0] for i in lost)
    out.update(integrity=integrity(folder / "restored.db"), lost=len(lost),
               lost_oldest_s=round(ages[-1], 3) if ages else None,
               phantom=len({i for i in got if abs(i) not in load.sent}),
               half_pairs=len({i for i in got if -i not in got}))
    if out["integrity"] == "ok" and not out["phantom"] and not out["half_pairs"]:
        shutil.rmtree(folder)  # kept when something is wrong, for a look at the log and the files
    return out


def cycle_passed(c: dict) -> bool:
    if not c["restore_ok"] or c["integrity"] != "ok" or c["phantom"] or c["half_pairs"]:
        return False
    if c["mode"] == "sync":
        return c["lost"] == 0
    return c["lost"] == 0 or c["lost_oldest_s"] <= INTERVAL_S + UPLOAD_ALLOWANCE_S


def summary(mode: str, cycles: list) -> dict:
    times = sorted(c["restore_s"] for c in cycles)
    lost_ages = [c["lost_oldest_s"] for c in cycles if c.get("lost_oldest_s") is not None]
    return {"mode": mode, "cycles": len(cycles), "acked": sum(c["acked"] for c in cycles),
            "lost": sum(c.get("lost", 0) for c in cycles), "cycles_with_loss": sum(1 for c in cycles if c.get("lost")),
            "lost_oldest_s": max(lost_ages, default=None),
            "integrity_ok": sum(1 for c in cycles if c.get("integrity") == "ok"),
            "restore_p50_s": percentile(times, 50), "restore_max_s": times[-1] if times else None,
            "failed_cycles": [c["cycle"] for c in cycles if not cycle_passed(c)],
            "result": "PASS" if cycles and all(cycle_passed(c) for c in cycles) else "MISS"}


def run(ctx: Context, scale: Scale, doc: dict) -> None:
    """Fills doc (so that what ran is kept should a cycle raise)."""
    rng = random.Random(SEED)
    doc.update(seed=SEED, writers=WRITERS, replica_interval_s=INTERVAL_S,
               async_loss_bound_s=INTERVAL_S + UPLOAD_ALLOWANCE_S, cycles=[], summary=[])
    for mode, count in (("async", scale.async_cycles), ("sync", scale.sync_cycles)):
        for n in range(count):
            c = cycle(ctx, mode, n, rng)
            doc["cycles"].append(c)
            ctx.log(f"drill DR {mode} {n + 1}/{count}: {c['acked']} acknowledged, lost {c.get('lost')}, "
                    f"restore {c['restore_s']:.2f} s, integrity {c.get('integrity')}")
        doc["summary"].append(summary(mode, [c for c in doc["cycles"] if c["mode"] == mode]))
