"""Drill 2, S3 faults: writes for a while with the replica going through the fault proxy in front of
moto_server in auth mode, the proxy cycling through its fault modes (500, 503 SlowDown, resets
before and after the store acted, truncated answers, stalls, slow answers, a random mix), each until
it met two requests and then off until the replica caught up (an upload succeeded, lag <= 1 s: how
long that takes is reported);
after the last round the faults stay off, the replica catches up (lag 0), a restore goes through the
proxy with 30 % of its requests faulty (the restore retries), and its rows are checked against the
live database's."""
import time

from . import prom
from .drill_support import (Scale, digest, ids, integrity, log_levels, moto_behind_proxy, remove_db, replica_counters,
                            restore, s3_env, via, wait_caught_up)
from .integration import LOAD_SCHEMA, TimedLoad
from .loadgen import percentile
from .phases import Context
from .procs import Monolite
from .prom import metric, wait_for

FAULTS = ("error", "slowdown", "reset", "truncate", "lost", "stall", "slow", "flaky")
WRITERS = 4
INTERVAL = "100ms"          # --replica-interval: uploads follow each other closely
REQUEST_TIMEOUT_MS = 5000   # timeout_ms in the replica URL: a stalled request is given up after 5 s
SLOT_REQUESTS = 2           # a fault holds until the proxy has answered this many requests with it
SLOT_MAX_S = 15             # ... or this long (the shipper backs off after each failure, up to 5 s)
STALL_HOLD_S = 2.0          # how long a stalled request is held before the fault ends
RECOVER_MAX_S = 60          # after a fault: caught up again within this long
CAUGHT_UP_S = 1.0           # ... that is: an upload succeeded and the lag is at most this
RESTORE_FLAKY_RATE = 0.3
LOAD_DIGEST = "SELECT id, writer, seq FROM load ORDER BY id"


def proxy_counts(proxy) -> dict:
    """Requests the proxy handled, per mode (its threads add to the counts under its lock)."""
    with proxy.lock:
        return dict(proxy.counts)


def handled(proxy) -> int:
    return sum(proxy_counts(proxy).values())


def caught_up(srv: Monolite, objects_before: float) -> bool:
    """An upload succeeded since the fault, and the replica is again within CAUGHT_UP_S of the writes."""
    s = prom.scrape(srv.url)
    return prom.value(s, "monolite_replica_objects_total") > objects_before and \
        prom.value(s, "monolite_replica_lag_seconds") <= CAUGHT_UP_S


def fault_slot(srv: Monolite, proxy, mode: str) -> dict:
    """One fault until it met SLOT_REQUESTS requests (a stall: one, held STALL_HOLD_S), then no
    faults until the shipper uploads again: how many requests met the fault, and how long the
    recovery took."""
    start = handled(proxy)
    proxy.set_mode(mode)
    need = 1 if mode == "stall" else SLOT_REQUESTS
    try:
        wait_for(lambda: handled(proxy) - start >= need, SLOT_MAX_S, f"{need} requests in mode {mode}")
        if mode == "stall":
            time.sleep(STALL_HOLD_S)  # the length of the stall, not a wait for a condition
    except TimeoutError:
        pass  # the shipper backed off for longer: fewer requests met this fault (counted below)
    met, objects = handled(proxy) - start, replica_counters(srv)["objects"]
    lag = metric(srv, "monolite_replica_lag_seconds")
    proxy.set_mode("pass")
    recovered = wait_for(lambda: caught_up(srv, objects), RECOVER_MAX_S, f"the replica caught up after the {mode} fault")
    return {"mode": mode, "requests": met, "lag_at_end_s": round(lag, 2), "recovered_s": round(recovered, 3)}


def write_through_faults(srv: Monolite, proxy, seconds: float) -> dict:
    """Writes while the proxy goes through every fault (each followed by a recovery), round after
    round until `seconds` have passed (at least one round)."""
    srv.post("/sql/execute", {"sql": LOAD_SCHEMA})
    load = TimedLoad(srv.port, WRITERS, duration_s=seconds + 600).start()
    t0, slots = time.monotonic(), []
    try:
        while not slots or time.monotonic() - t0 < seconds:
            slots += [fault_slot(srv, proxy, mode) for mode in FAULTS]
    finally:
        proxy.set_mode("pass")
        load.stop()
    with load.lock:
        acked = set(load.acks)
    recoveries = sorted(s["recovered_s"] for s in slots)
    return {"written_s": round(time.monotonic() - t0, 1), "rounds": len(slots) // len(FAULTS), "slots": slots,
            "requests_per_fault": {m: sum(s["requests"] for s in slots if s["mode"] == m) for m in FAULTS},
            "recovery_p50_s": percentile(recoveries, 50), "recovery_max_s": recoveries[-1],
            "lag_max_s": max(s["lag_at_end_s"] for s in slots),
            "acked_set": acked, "acknowledged": len(acked), "non_2xx": len(load.other_statuses),
            "transport_errors": len(load.transport_errors), "proxy_requests": proxy_counts(proxy)}


def restore_through_faults(ctx: Context, s3, proxy, prefix: str, output) -> dict:
    proxy.flaky_rate = RESTORE_FLAKY_RATE
    before = proxy_counts(proxy)
    proxy.set_mode("flaky")
    try:
        r = restore(ctx, via(s3, proxy, prefix, timeout_ms=REQUEST_TIMEOUT_MS), output, "--parallelism", "4",
                    env=s3_env(s3))
    finally:
        proxy.set_mode("pass")
    seen = {m: n - before.get(m, 0) for m, n in proxy_counts(proxy).items()}
    r["requests"] = sum(seen.values())
    r["faults_injected"] = r["requests"] - seen.get("pass", 0) - seen.get("flaky", 0)
    return r


def run(ctx: Context, scale: Scale, doc: dict) -> None:
    folder = ctx.run_dir / "drill-faults"
    folder.mkdir()
    db, prefix = folder / "app.db", "drill-faults"
    with moto_behind_proxy(ctx) as (s3, proxy):
        flags = ("--replica", via(s3, proxy, prefix, timeout_ms=REQUEST_TIMEOUT_MS), "--replica-interval", INTERVAL)
        srv = Monolite(ctx.monolite_bin, db, "normal", ctx.ledger, folder / "monolite.log", extra=flags,
                       env=s3_env(s3))
        with srv:
            wait_caught_up(srv, 60)
            ctx.log(f"drill S3 faults: {scale.fault_seconds:.0f} s of writes through {', '.join(FAULTS)}")
            w = write_through_faults(srv, proxy, scale.fault_seconds)
            acked = w.pop("acked_set")
            doc.update(seconds=scale.fault_seconds, writers=WRITERS, modes=list(FAULTS), **w)
            doc["catch_up_s"] = wait_caught_up(srv, 180)
            doc["replica"] = replica_counters(srv)
            doc["live"] = digest(db, LOAD_DIGEST)
        doc["server_log_levels"] = log_levels(srv.log)
        # A new generation: the shipper fell so far behind that its backlog crossed --replica-max-backlog.
        doc["backlog_dropped"] = srv.log.read_text(errors="replace").count("backlog over its limit")
        doc["server_exit"] = srv.exit_code
        ctx.log("drill S3 faults: restore through the proxy, 30 % of requests faulty")
        r = restore_through_faults(ctx, s3, proxy, prefix, folder / "restored.db")
    doc["restore"] = {k: v for k, v in r.items() if k != "json"}
    if r["ok"]:
        restored = folder / "restored.db"
        doc.update(integrity=integrity(restored), restored=digest(restored, LOAD_DIGEST),
                   lost=len(acked - ids(restored)))
        remove_db(restored)
    doc["result"] = "PASS" if (r["ok"] and doc["integrity"] == "ok" and doc["restored"] == doc["live"]
                               and doc["lost"] == 0 and srv.exit_code == 0) else "MISS"
