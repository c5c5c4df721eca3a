"""Recovery time of the container image: `podman run` on an empty volume → first answered query.

    python3 bench/deploy/rto.py [--image localhost/monolite:x] [--mb 100 1024]

For each size: a container with an S3 replica (moto_server, signatures checked) is filled with
about that many megabytes through the API (1 KB rows, about 2.5:1 compressible), the replica is
allowed to catch up, the container and its volume are removed, and a fresh container on a new
volume restores and serves. Prints the RTO and the restore's own duration from monolite's log.
Without --image it builds the image (test/deploy/container_test.py). moto is slow and keeps
everything in memory: the numbers are an upper bound for a real S3 on a fast network.
"""

import argparse
import datetime
import os
import re
import sys
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "test", "deploy"))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

import container_test as ct  # noqa: E402
from harness import Client, wait_until  # noqa: E402
from moto import MotoServer  # noqa: E402


def replica_caught_up(container):
    client = Client(container.port, timeout=10)
    try:
        text = client.get("/metrics").raw.decode()
    finally:
        client.close()
    lags = [float(v) for v in re.findall(r"^monolite_replica_lag_frames\{[^}]*\} (\S+)$", text, re.M)]
    return bool(lags) and all(lag == 0 for lag in lags)


def log_time(container, fragment):
    for record in container.log_records():
        if fragment in record.get("msg", ""):
            return datetime.datetime.fromisoformat(record["ts"].replace("Z", "+00:00"))
    return None


def measure(s3, megabytes):
    env = {"MONOLITE_REPLICA": s3.url(f"rto/{megabytes}mb-{os.getpid()}"), **s3.env(),
           "MONOLITE_INSECURE_NO_AUTH": "true"}
    first = ct.Container(ct.new_volume(), env).start()
    try:
        first.wait_answering("SELECT 1")
        started = time.monotonic()
        ct.fill(first, megabytes * 1000, row_bytes=1000, per_request=20000)
        filled = time.monotonic()
        if not wait_until(lambda: replica_caught_up(first), 1800, interval=1.0):
            raise AssertionError("the replica did not catch up")
        print(f"{megabytes} MB: filled in {filled - started:.0f} s, replica caught up "
              f"{time.monotonic() - filled:.0f} s later", file=sys.stderr)
        rows = first.wait_answering("SELECT count(*) FROM filler")[0].body["rows"][0][0]
        assert first.stop() == 0, first.logs()
    finally:
        first.remove()
        ct.podman("volume", "rm", "-f", first.volume, check=False)

    second = ct.Container(ct.new_volume(), env).start()
    try:
        resp, rto = second.wait_answering("SELECT count(*) FROM filler", timeout=3600)
        assert resp.body["rows"][0][0] == rows, (resp.body, rows)
        began, restored = log_time(second, "restoring from the replica"), log_time(second, "restored")
        restore_s = (restored - began).total_seconds() if began and restored else float("nan")
        size = ct.podman("exec", second.name, "stat", "-c", "%s", "/data/app.db").stdout.strip()
        print(f"{megabytes} MB ({int(size) / 1e6:.0f} MB on disk, {rows} rows): RTO {rto:.1f} s "
              f"(the restore itself {restore_s:.1f} s)")
        assert second.stop() == 0, second.logs()
    finally:
        second.remove()
        ct.podman("volume", "rm", "-f", second.volume, check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image")
    parser.add_argument("--mb", type=int, nargs="+", default=[100, 1024])
    args = parser.parse_args()
    ct._image = args.image or ct.build_image()
    with MotoServer() as s3:
        for megabytes in args.mb:
            measure(s3, megabytes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
