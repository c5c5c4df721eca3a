"""Restart time of monolite on a large database: SIGTERM to the old process → the new one ready.

    python3 bench/deploy/restart_time.py [--mb 1024] [--restarts 5] [--replica] [--bin PATH]

Builds a database of about --mb megabytes (1 KB rows), then restarts monolite --restarts times
while 4 writers insert rows, with the listening socket held across the restarts as systemd's
socket unit does (test/integration/test_caddy.py). --replica adds a file:// replica. Prints each
restart time and checks that no acknowledged write was lost and no request failed.
"""

import argparse
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

from harness import LOAD_SCHEMA, Client, WriteLoad, db_file_load_ids, serve_args, wait_until  # noqa: E402
from test_caddy import ActivatedServer, HeldSocket  # noqa: E402


def make_database(path, megabytes):
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE filler(id INTEGER PRIMARY KEY, body TEXT)")
    rows, batch = megabytes * 1000, 20000
    for start in range(0, rows, batch):
        conn.execute("INSERT INTO filler(body) SELECT hex(randomblob(250)) || printf('%.*c', 500, 'x') "
                     "FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
                     "SELECT x FROM c)", (min(batch, rows - start),))
        conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--replica", action="store_true")
    parser.add_argument("--bin", default=os.path.join(REPO, "build", "release", "monolite"))
    args = parser.parse_args()
    os.environ["MONOLITE_BIN"] = os.path.abspath(args.bin)

    with tempfile.TemporaryDirectory(prefix="monolite-restart-") as work:
        db = os.path.join(work, "app.db")
        started = time.monotonic()
        size = make_database(db, args.mb)
        print(f"database: {size / 1e6:.0f} MB, made in {time.monotonic() - started:.0f} s", file=sys.stderr)
        extra = ["--replica", f"file://{work}/replica"] if args.replica else []
        held = HeldSocket()
        server = ActivatedServer(work, serve_args(db, held.port, extra), held).start()
        client = Client(held.port)
        assert client.execute(LOAD_SCHEMA).status == 200
        assert client.query("SELECT count(*) FROM filler").status == 200
        client.close()
        load = WriteLoad(held.port, 4).start()
        times = []
        try:
            for _ in range(args.restarts):
                target = load.acked_count() + 500
                wait_until(lambda: load.acked_count() >= target, 60)
                signalled = time.monotonic()
                server.send_signal(signal.SIGTERM)
                assert server.wait(60) == 0, server.log_tail()
                stopped = time.monotonic()
                if stopped - signalled > 1.0:
                    print(f"slow stop; the old process logged:\n{server.log_tail(12)}", file=sys.stderr)
                server = ActivatedServer(work, serve_args(db, held.port, extra), held).start()
                times.append(((stopped - signalled) * 1000, (server.ready_at - signalled) * 1000))
                time.sleep(1)
        finally:
            load.stop()
            load.join(60)
        failed = [s for s in load.statuses() if s[0] != 200] + load.failures()
        assert server.stop() == 0
        lost = load.acked() - db_file_load_ids(db)
        held.close()
        for stop_ms, total_ms in times:
            print(f"restart: old process gone after {stop_ms:.0f} ms, new one ready after {total_ms:.0f} ms")
        print(f"median {statistics.median(t for _, t in times):.0f} ms, max {max(t for _, t in times):.0f} ms; "
              f"{load.acked_count()} writes acknowledged, {len(failed)} failed, {len(lost)} lost")
        return 0 if not failed and not lost else 1


if __name__ == "__main__":
    sys.exit(main())
