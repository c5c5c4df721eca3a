"""Reading monolite's GET /metrics (Prometheus text format): samples, quantiles of a histogram from
the difference of two scrapes, and waiting on the replica metrics."""
import math
import re
import time
import urllib.request

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(base_url: str) -> list:
    """[(name, {label: value}, float)] for every sample line."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    out = []
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m and not line.startswith("#"):
            out.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def value(samples: list, name: str, default: float = 0.0) -> float:
    """The first sample of `name` (one replica: there is one)."""
    return next((v for n, _, v in samples if n == name), default)


def histogram(samples: list, name: str) -> dict:
    """{"buckets": [(le, cumulative count)], "sum", "count"} of the first label set of `name`."""
    buckets = [(float(labels["le"]), v) for n, labels, v in samples if n == name + "_bucket"]
    return {"buckets": sorted(buckets), "sum": value(samples, name + "_sum"),
            "count": value(samples, name + "_count")}


def delta(after: dict, before: dict) -> dict:
    """What was observed between two scrapes."""
    old = dict(before["buckets"])
    return {"buckets": [(le, c - old.get(le, 0.0)) for le, c in after["buckets"]],
            "sum": after["sum"] - before["sum"], "count": after["count"] - before["count"]}


def quantile(h: dict, q: float) -> dict:
    """The q-quantile at bucket resolution: the bucket it falls in (lower, upper bound) and a linear
    interpolation inside it, as Prometheus' histogram_quantile() does."""
    if not h["count"]:
        return {"lower": math.nan, "upper": math.nan, "interpolated": math.nan}
    rank = q * h["count"]
    lower, prev = 0.0, 0.0
    for le, cumulative in h["buckets"]:
        if cumulative >= rank:
            if math.isinf(le):
                return {"lower": lower, "upper": le, "interpolated": lower}
            inside = (rank - prev) / (cumulative - prev) if cumulative > prev else 1.0
            return {"lower": lower, "upper": le, "interpolated": lower + (le - lower) * inside}
        lower, prev = le, cumulative
    return {"lower": lower, "upper": math.inf, "interpolated": lower}


# --- the replica metrics of one server (srv: anything with .url) ----------------------------------

def metric(srv, name: str) -> float:
    return value(scrape(srv.url), name)


def wait_for(predicate, seconds: float, what: str) -> float:
    """Polls every 50 ms; returns how long it took."""
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > seconds:
            raise TimeoutError(f"{what} within {seconds:.0f} s")
        time.sleep(0.05)
    return time.monotonic() - t0


def wait_snapshot(srv, seconds: float = 120) -> float:
    """Until the replica holds a snapshot (sync-mode writes wait for it too)."""
    return wait_for(lambda: metric(srv, "monolite_replica_snapshots_total") >= 1, seconds,
                    "no snapshot in the replica")


def wait_shipped(srv, seconds: float = 15) -> float:
    """Until every captured WAL frame is in the replica."""
    return wait_for(lambda: metric(srv, "monolite_replica_lag_frames") == 0, seconds,
                    "the replica did not catch up")


def counters(srv) -> dict:
    s = scrape(srv.url)
    return {k: value(s, f"monolite_replica_{k}_total") for k in ("objects", "bytes", "errors")}
