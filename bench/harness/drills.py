"""--drills / --drills-quick: the replication drills (docs/replication.md), each printed as a table:
1. DR cycles (drill_dr.py): kill -9 under writes, restore, count acknowledged rows lost;
2. S3 faults (drill_faults.py): writes and a restore through injected S3 faults;
3. backlog stall (drill_backlog.py): memory while the store holds an upload.
A drill that raises is recorded as ERROR with its exception, and the next one still runs."""
import traceback

from . import drill_backlog, drill_dr, drill_faults
from .drill_support import FULL, QUICK
from .phases import Context


def run(ctx: Context, quick: bool, doc: dict) -> None:
    scale = QUICK if quick else FULL
    doc["scale"] = {"async_cycles": scale.async_cycles, "sync_cycles": scale.sync_cycles,
                    "fault_seconds": scale.fault_seconds, "quick": quick}
    steps = (("dr", lambda d: drill_dr.run(ctx, scale, d)), ("faults", lambda d: drill_faults.run(ctx, scale, d)),
             ("backlog", lambda d: drill_backlog.run(ctx, d)))
    for name, step in steps:
        doc[name] = {}
        try:
            step(doc[name])
        except Exception as e:  # a drill that cannot finish is a result too; the others still run
            traceback.print_exc()
            doc[name]["error"] = repr(e)[:500]
            doc[name]["result"] = "ERROR"
            ctx.note(f"drill {name} did not finish: {e!r}")
