"""--scale: monolite point-read and insert throughput vs database size and vs client count."""
import csv
import time
from pathlib import Path

from . import svg
from .loadgen import BENCH, run_wrk
from .phases import Context, check_errors, check_server_log, entry, fresh_copy, make_sqlite_db
from .procs import Monolite

CACHE = BENCH / ".cache"
# (label, rows, characters of padding per name): the last one makes a file of more than 2 GB.
SIZES = (("100K rows", 100_000, 0), ("10M rows", 10_000_000, 0), ("10M rows padded", 10_000_000, 200))
SCALE_CLIENTS = (1, 4, 16, 64, 256)
SCALE_WORKLOADS = ("point_read", "insert")
FIELDS = ("dimension", "db", "db_rows", "db_bytes", "clients", "workload", "rps", "p50_ms", "p99_ms",
          "p999_ms", "errors")


def cached_db(ctx: Context, rows: int, pad: int) -> Path:
    """Big databases are built once (sqlite3 CLI, recursive CTE) and kept in bench/.cache/."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"seed-{rows}-pad{pad}.db"
    if not path.exists():
        ctx.log(f"building {path.name} (cached for next time)")
        t = time.monotonic()
        make_sqlite_db(path, rows, pad)
        ctx.log(f"built {path.name}: {path.stat().st_size / 1e9:.2f} GB in {time.monotonic() - t:.0f} s")
    return path


def _run_size(ctx: Context, label: str, rows: int, pad: int) -> list:
    src = cached_db(ctx, rows, pad)
    db_bytes = src.stat().st_size
    clients_list = SCALE_CLIENTS if label == SIZES[0][0] else (64,)
    out = []
    with Monolite(ctx.monolite_bin, fresh_copy(ctx, src, "scale.db"), "normal", ctx.ledger,
                  ctx.run_dir / f"monolite-scale-{rows}-{pad}.log") as srv:
        run_wrk(srv.url, "point_read", 64, ctx.warmup, rows)
        for workload in SCALE_WORKLOADS:
            for clients in clients_list:
                ctx.log(f"scale {label} {workload}@{clients}")
                e = entry("monolite", "NORMAL", workload, clients, run_wrk(srv.url, workload, clients,
                                                                        ctx.seconds, rows))
                check_errors(ctx, e)
                out.append({**e, "db": label, "db_rows": rows, "db_bytes": db_bytes})
    check_server_log(ctx, srv, f"monolite scale {label}")
    (ctx.run_dir / "scale.db").unlink(missing_ok=True)
    return out


def _rows_for_csv(results: list) -> list:
    """Each result under the dimension(s) it belongs to: clients (100K rows) and db_size (64 clients)."""
    by_clients = [{**r, "dimension": "clients"} for r in results if r["db"] == SIZES[0][0]]
    by_size = [{**r, "dimension": "db_size"} for r in results if r["clients"] == 64]
    return by_clients + by_size


def size_label(n: int) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _plot(rows: list, path_stem: Path) -> Path:
    by = lambda dim, wl: [r["rps"] for r in rows if r["dimension"] == dim and r["workload"] == wl]
    sizes = [f"{r['db']} ({size_label(r['db_bytes'])})" for r in rows
             if r["dimension"] == "db_size" and r["workload"] == SCALE_WORKLOADS[0]]
    clients = [r["clients"] for r in rows if r["dimension"] == "clients" and r["workload"] == SCALE_WORKLOADS[0]]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
        for wl in SCALE_WORKLOADS:
            a.plot([str(c) for c in clients], by("clients", wl), marker="o", label=wl)
            b.plot(sizes, by("db_size", wl), marker="o", label=wl)
        a.set(title="req/s vs clients (100K rows)", xlabel="clients", ylabel="req/s")
        b.set(title="req/s vs database size (64 clients)", xlabel="database", ylabel="req/s")
        a.legend(), b.legend()
        fig.tight_layout()
        out = path_stem.with_suffix(".png")
        fig.savefig(out)
        return out
    except ImportError:
        charts = [svg.chart("req/s vs clients (100K rows)", clients,
                            {wl: by("clients", wl) for wl in SCALE_WORKLOADS}, "clients", "req/s"),
                  svg.chart("req/s vs database size (64 clients)", sizes,
                            {wl: by("db_size", wl) for wl in SCALE_WORKLOADS}, "database", "req/s",
                            dx=svg.W)]
        out = path_stem.with_suffix(".svg")
        out.write_text(svg.document(charts))
        return out


def scale(ctx: Context, path_stem: Path) -> dict:
    results = [r for size in SIZES for r in _run_size(ctx, *size)]
    rows = _rows_for_csv(results)
    csv_path = path_stem.with_suffix(".csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return {"rows": rows, "csv": str(csv_path), "plot": str(_plot(rows, path_stem))}
