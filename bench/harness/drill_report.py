"""The drills' tables (drills.py): one per drill, each with a PASS/MISS (ERROR: it did not finish)."""
from . import report  # report imports this module: table() is looked up when called


def _s(v, fmt: str = "{:.2f}") -> str:
    return "-" if v is None else fmt.format(v)


def dr_table(d: dict) -> str:
    rows = [(s["mode"], s["cycles"], f"{s['acked']:,}", f"{s['lost']:,}", s["cycles_with_loss"],
             _s(s["lost_oldest_s"], "{:.3f}"), f"{s['integrity_ok']}/{s['cycles']}", _s(s["restore_p50_s"]),
             _s(s["restore_max_s"]), s["result"] + (f" (cycles {s['failed_cycles']})" if s["failed_cycles"] else ""))
            for s in d.get("summary", [])]
    head = ("mode", "cycles", "acknowledged", "lost", "cycles w/ loss", "oldest lost ack s", "integrity ok",
            "restore p50 s", "restore max s", "result")
    notes = [f"  {d['writers']} clients, file:// replica, --replica-interval {d['replica_interval_s']} s; kill -9 at a "
             f"random moment (seed {d['seed']}), then `monolite restore`; lost = acknowledged (HTTP 200) but not "
             f"restored. sync: must be 0. async: each lost row acknowledged at most {d['async_loss_bound_s']} s "
             "before the kill (interval + 1 s for the upload)."] if "seed" in d else []
    return "\n".join([report.table(rows, head), *notes, *_error(d)])


def faults_table(d: dict) -> str:
    if "acknowledged" not in d:
        return "\n".join(_error(d))
    r = d.get("restore", {})
    rows = [(f"{d['written_s']:.0f}", d["rounds"], f"{d['acknowledged']:,}", int(d["replica"]["errors"]),
             f"{d['recovery_p50_s']:.2f} / {d['recovery_max_s']:.2f}", _s(d.get("catch_up_s")), r.get("requests", "-"),
             r.get("faults_injected", "-"), r.get("retries", "-"), _s(r.get("seconds")), f"{d['live']['rows']:,}",
             f"{d['restored']['rows']:,}" if "restored" in d else "-", d.get("lost", "-"), d.get("result", "ERROR"))]
    head = ("write s", "rounds", "acknowledged", "upload errors", "recovery p50/max s", "lag 0 after s",
            "restore requests", "faults", "retries", "restore s", "live rows", "restored rows", "acked lost", "result")
    met = ", ".join(f"{m} {n}" for m, n in d["requests_per_fault"].items())
    behind = (f"Replica lag when a fault ended: max {d['lag_max_s']} s; new generations because the backlog "
              f"crossed --replica-max-backlog (256 MiB): {d.get('backlog_dropped', '-')}.")
    notes = [f"  moto_server (auth mode) behind the fault proxy; per round each fault until it met 2 upload requests "
             f"(a stall: 1, held 2 s), then none until the replica caught up (an upload succeeded, lag <= 1 s: the recovery); requests that met each "
             f"fault: {met}. Then faults off, lag 0 (/metrics), `monolite restore` with 30 % of its requests "
             "faulty. PASS: the restore succeeds, integrity ok, the same rows (SHA-256) as the live database, "
             "no acknowledged row lost.", "  " + behind]
    return "\n".join([report.table(rows, head), *notes, *_error(d)])


def backlog_table(d: dict) -> str:
    if "rss_peak_mib" not in d:
        return "\n".join(_error(d))
    rows = [(d["backlog_mib"], d["rss_before_mib"], d["rss_peak_stall_mib"], d["peak_limit_mib"], d["rss_peak_mib"],
             d["recovery_budget_mib"], d["rss_after_mib"], d["after_limit_mib"],
             "yes" if d["backlog_dropped"] else "no",
             f"{d['written_during_stall_mib']:.0f}", _s(d.get("recovery_s")),
             "ok" if d.get("restore_ok") else "MISMATCH", d.get("result", "ERROR"))]
    head = ("backlog MiB", "RSS before", "stall peak", "stall limit", "recovery peak", "recovery budget", "after",
            "after limit", "backlog dropped", "MiB written", "recovery s", "restore", "result")
    notes = [f"  RSS in MiB, sampled every 0.1 s ({d['rss_samples']} samples); --cache-size {d['cache_size']}. "
             f"PASS: stall peak <= before + backlog + {d['margin_mib']} MiB margin (the segment in upload and its "
             "compressed copy, chunks in flight, allocator slack); after (once the new generation's snapshot is up) "
             "<= before + 20 %; restore identical to the live database. Not judged: the recovery peak (the new "
             f"generation's snapshot is built in memory) against before + the compressed snapshot "
             f"({d['snapshot_mib']} MiB) + the margin."]
    return "\n".join([report.table(rows, head), *notes, *_error(d)])


def _error(d: dict) -> list:
    if "error" in d:
        return [f"  ERROR: {d['error']}"]
    return [] if "result" in d else ["  (did not run to the end)"]


def render(doc: dict) -> str:
    sc = doc.get("scale", {})
    parts = [f"scale: {sc.get('async_cycles')} async + {sc.get('sync_cycles')} sync DR cycles, "
             f"{sc.get('fault_seconds')} s of S3 faults{' (quick)' if sc.get('quick') else ''}"]
    for key, title, fn in (("dr", "1. DR cycles (kill -9, restore):", dr_table),
                           ("faults", "2. S3 faults:", faults_table),
                           ("backlog", "3. Backlog stall:", backlog_table)):
        if key in doc:
            parts += ["", title, fn(doc[key])]
    return "\n".join(parts)
