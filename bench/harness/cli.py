"""Entry point: python3 -m harness [--quick] [--scale] [--soak SECONDS] [--replication] [--no-main]
[--restore-gib N] [--restore-only] [--drills | --drills-quick] [--move] [--pg-engine] [--followers] [--replicas]
(see bench/README.md)."""
import argparse
import signal
import sys
import time
import traceback
from pathlib import Path

from . import drills, machine, move_bench, pg_engine_bench, phases, replica_bench, replication, report
from . import follower_bench
from .loadgen import BENCH
from .procs import Ledger, ensure_binary
from .scale import scale


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run.sh", description="monolite benchmark harness")
    p.add_argument("--quick", action="store_true", help="short runs (about 3 minutes in all)")
    p.add_argument("--scale", action="store_true", help="also throughput vs database size and client count")
    p.add_argument("--soak", type=int, metavar="SECONDS", default=0, help="also a mixed-load soak, RSS every 10 s")
    p.add_argument("--replication", action="store_true",
                   help="also replication: throughput with a file replica, lag, sync mode, restore of 1 GiB")
    p.add_argument("--restore-gib", type=int, default=1, metavar="N",
                   help="--replication: restore a database of at least N GiB (cached in bench/.cache/restore-<N>g.db)")
    p.add_argument("--restore-only", action="store_true",
                   help="only the restore part of --replication (implies --replication --no-main)")
    p.add_argument("--drills", action="store_true",
                   help="the replication drills (DR cycles, S3 faults, backlog stall) instead of the main comparison")
    p.add_argument("--drills-quick", action="store_true", help="the drills at a small scale (about 2 minutes)")
    p.add_argument("--move", action="store_true",
                   help="the escape hatch: monolite move vs pgloader, the cut-over outage, /admin/status cost")
    p.add_argument("--move-gib", type=float, default=1, metavar="N",
                   help="--move: a database of at least N GiB (cached in bench/.cache/move-<N>g.db)")
    p.add_argument("--move-parts", default="migration,cutover,status", metavar="LIST",
                   help="--move: which parts to run (migration, cutover, status)")
    p.add_argument("--pg-engine", action="store_true",
                   help="instead: monolite serving PostgreSQL vs pgbench vs monolite on SQLite (point reads, inserts)")
    p.add_argument("--followers", action="store_true",
                   help="instead: read followers: their lag at paced write rates, insert req/s with 0, 1, 2 followers")
    p.add_argument("--replicas", action="store_true",
                   help="instead: point reads from a libSQL embedded replica vs HTTP vs Hrana, and inserts with "
                        "the replication log off / on / on with a syncing replica")
    p.add_argument("--no-main", action="store_true",
                   help="skip the main comparison (run only --scale/--soak/--replication/--drills)")
    p.add_argument("--seconds", type=float, help="seconds per measured run (default 10, quick 3)")
    p.add_argument("--monolite", type=Path, default=BENCH.parent / "build/release/monolite")
    p.add_argument("--loop", type=Path, required=True, help="monolite_sqlite_loop binary")
    p.add_argument("--run-dir", type=Path, required=True, help="scratch directory (run.sh makes and removes it)")
    return p.parse_args(argv)


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv=None) -> int:
    args = parse_args(argv if argv is not None else sys.argv[1:])
    args.drills = args.drills or args.drills_quick
    args.replication = args.replication or args.restore_only
    args.no_main = args.no_main or args.restore_only
    args.no_main = args.no_main or args.drills  # the drills are a check of their own, not a comparison
    args.no_main = args.no_main or args.move or args.pg_engine or args.replicas
    args.no_main = args.no_main or args.followers
    signal.signal(signal.SIGTERM, _sigterm)
    seconds = args.seconds or (3 if args.quick else 10)
    ctx = phases.Context(run_dir=args.run_dir, ledger=Ledger(args.run_dir / "ledger"),
                         monolite_bin=ensure_binary(args.monolite, args.run_dir / "monolite"),
                         loop_bin=args.loop, seconds=seconds, warmup=1 if args.quick else 2)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    mode = "-pg-engine" if args.pg_engine else "-replicas" if args.replicas else ""
    mode += "-followers" if args.followers else ""
    out = BENCH / "results" / (stamp + mode)
    doc = {"started": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "json": str(out.with_suffix(".json")),
           "settings": {"seconds": seconds, "warmup": ctx.warmup, "rows": phases.ROWS, "quick": args.quick,
                        "soak": args.soak, "scale": args.scale, "replication": "restore only" if args.restore_only else args.replication,
                        "restore_gib": args.restore_gib,
                        "drills": "quick" if args.drills_quick else args.drills,
                        "move_gib": args.move_gib if args.move else None, "pg_engine": args.pg_engine,
                        "followers": args.followers,
                        "replicas": args.replicas,
                        "wrk": "-t2 (-t1 for 1 client), --timeout 10s",
                        "pgbench": "-M prepared -j 2 (-j 1 for 1 client), TCP 127.0.0.1"},
           "machine": machine.describe(ctx.monolite_bin, BENCH.parent)}
    t0 = time.monotonic()
    status = 0
    try:
        run_phases(ctx, args, doc, out)
    except (Exception, KeyboardInterrupt) as e:
        if not isinstance(e, KeyboardInterrupt):
            traceback.print_exc()
        ctx.note(f"run aborted: {e!r}")
        status = 1
    doc["notes"] = ctx.notes
    doc["machine"]["loadavg_end"] = machine.loadavg()
    doc["elapsed_s"] = round(time.monotonic() - t0, 1)
    report.save(doc, out.with_suffix(".json"))
    print(report.render(doc))
    if doc.get("followers"):  # printed here rather than from report.SECTIONS, to keep this branch's change small
        print(follower_bench.render(doc["followers"]))
    return status


def run_phases(ctx: phases.Context, args, doc: dict, out: Path) -> None:
    if args.drills:
        doc["drills"] = {}
        drills.run(ctx, args.drills_quick, doc["drills"])
    if args.move:
        doc["move"] = {}
        move_bench.run(ctx, args.move_gib, doc["move"], args.move_parts)
    if args.pg_engine:
        doc["pg_engine"] = {}
        pg_engine_bench.run(ctx, doc["pg_engine"])
    if args.followers:
        doc["followers"] = {}
        follower_bench.run(ctx, doc["followers"])
    if args.replicas:
        doc["replicas"] = {}
        replica_bench.run(ctx, doc["replicas"])
    if args.no_main and not (args.soak or args.scale or args.replication):
        return
    seed = phases.make_sqlite_db(ctx.run_dir / "seed.db")
    if not args.no_main:
        doc["sqlite_loop"] = phases.sqlite_loop(ctx, seed)
        doc["results"] = []
        for sync, _ in phases.PAIRS:
            suite = phases.monolite_suite(ctx, seed, sync)
            doc["results"] += suite["results"]
            doc.update({k: v for k, v in suite.items() if k != "results"})
        doc["results"] += phases.pg_suite(ctx)
        doc["ratios"] = report.ratios(doc["results"])
    if args.soak:
        doc["soak"] = phases.soak(ctx, seed, args.soak)
    if args.scale:
        doc["scale"] = scale(ctx, out.with_name(out.name + "-scale"))
    if args.replication:
        doc["replication"] = {}
        replication.run(ctx, seed, doc["replication"], restore_gib=args.restore_gib, restore_only=args.restore_only)
