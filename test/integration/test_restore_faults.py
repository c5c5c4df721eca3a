"""Restores that retry: through a proxy that injects 500s, 503 SlowDown, resets before and after
the upstream acted and truncated bodies into 30 % of requests, `monolite restore` and
`serve --restore-if-missing` still succeed and hold exactly the rows; a permanent error (an object
the plan needs is gone) fails at once, naming the object; shipping through the same faults loses
nothing."""

import os
import time
import unittest

from harness import LOAD_SCHEMA, db_file_integrity, db_file_load_ids, load_insert, wait_until
from replica_harness import Ballast, TimedLoad, restore, wait_caught_up
from test_replication_s3 import S3TestCase

ROWS = 300
SEGMENTS = 40
FAULT_MODES = ("error", "slowdown", "reset", "truncate", "lost")


class RestoreFaultsTest(S3TestCase):
    def fill_replica(self):
        """A replica of ROWS load rows and some ballast over many segments; the server stopped.
        Returns the load ids the database holds."""
        server = self.serve()
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        ballast = Ballast(server.port, size=8192, pause=0.0).start()
        row = 0
        deadline = time.monotonic() + 120
        # Enough objects that a 30 % fault rate hits many of them: keep writing until the replica
        # holds SEGMENTS segments.
        while row < ROWS or (len([k for k in self.keys() if "/wal/" in k]) < SEGMENTS and time.monotonic() < deadline):
            row += 1
            self.assertEqual(http.execute_many([load_insert(row, 0, row)]).status, 200)
        ballast.stop()
        self.assertEqual(ballast.failures, [])
        self.assertTrue(wait_caught_up(http))
        server.stop_and_check()
        return db_file_load_ids(self.db_path)

    def injected(self, proxy):
        return sum(proxy.count(mode) for mode in FAULT_MODES)

    def test_restore_succeeds_through_injected_faults(self):
        live = self.fill_replica()
        proxy = self.proxy()
        proxy.set_mode("flaky")
        for attempt in range(3):
            output = os.path.join(self.workdir, f"restored-{attempt}.db")
            done = restore(output, self.via(proxy, timeout_ms="5000"), "--parallelism", "4", env=self.env)
            self.assertEqual(done.returncode, 0, f"restore {attempt} failed:\n{done.stderr}")
            self.assertEqual(db_file_integrity(output), ["ok"])
            self.assertEqual(db_file_load_ids(output), live)
        self.assertGreater(self.injected(proxy), 10, "the proxy injected too few faults to mean anything")
        self.assertGreater(proxy.count("truncate"), 0)

    def test_a_download_cut_off_midway_resumes_from_where_it_stopped(self):
        live = self.fill_replica()
        snapshot = [k for k in self.keys() if "/snapshots/" in k][0].rsplit("/", 1)[-1]
        proxy = self.proxy()
        proxy.truncate_once = snapshot  # its body stops halfway, once
        output = os.path.join(self.workdir, "resumed.db")
        done = restore(output, self.via(proxy), env=self.env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(db_file_load_ids(output), live)
        gets = [h for h in proxy.heads if h.startswith(b"GET ") and snapshot.encode() in h.split(b"\r\n", 1)[0]]
        self.assertEqual(len(gets), 2, gets)
        self.assertNotIn(b"\r\nrange:", gets[0].lower())
        ranges = [line for line in gets[1].lower().split(b"\r\n") if line.startswith(b"range:")]
        self.assertEqual(len(ranges), 1, gets[1])
        self.assertRegex(ranges[0].decode(), r"^range: bytes=[1-9]\d*-$")

    def test_a_missing_object_fails_at_once_naming_it(self):
        self.fill_replica()
        segments = [k for k in self.keys() if "/wal/" in k]
        self.assertGreater(len(segments), 2)
        doomed = segments[len(segments) // 2].rsplit("/", 1)[-1]
        proxy = self.proxy()
        proxy.missing = doomed  # listed (the plan needs it), but 404 when fetched
        output = os.path.join(self.workdir, "gap.db")
        started = time.monotonic()
        done = restore(output, self.via(proxy), "--retry-timeout", "2m", env=self.env)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn(doomed, done.stderr)
        self.assertLess(time.monotonic() - started, 60, "a permanent error was retried")
        self.assertFalse(os.path.exists(output))

    def test_serve_restores_at_boot_through_injected_faults(self):
        live = self.fill_replica()
        os.remove(self.db_path)
        for suffix in ("-wal", "-shm", "-walmark"):
            if os.path.exists(self.db_path + suffix):
                os.remove(self.db_path + suffix)
        proxy = self.proxy()
        proxy.set_mode("flaky")
        server = self.serve("--restore-if-missing", url=self.via(proxy, timeout_ms="5000"))
        http = self.client(server)
        self.assertTrue(wait_until(lambda: http.get("/readyz").status == 200, timeout=120),
                        "the server did not become ready")
        rows = self.query_rows(http, "SELECT id FROM load ORDER BY id")
        self.assertEqual({r[0] for r in rows}, live)
        self.assertGreater(self.injected(proxy), 0)

    def test_shipping_through_injected_faults_loses_nothing(self):
        proxy = self.proxy()
        server = self.serve(url=self.via(proxy, timeout_ms="5000"))
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        self.assertTrue(wait_caught_up(http))
        proxy.set_mode("flaky")
        load = TimedLoad(server.port, 4).start()
        wait_until(lambda: load.acked_count() >= 400 and self.injected(proxy) >= 10, timeout=120)
        load.stop()
        self.assertEqual(load.other_statuses, [])
        proxy.set_mode("pass")
        self.assertTrue(wait_caught_up(http, timeout=120, new_generation=False))
        output = os.path.join(self.workdir, "shipped.db")
        ids = self.restore_ok(output, self.url, env=self.env)
        self.assertTrue(load.acked() <= ids, "an acknowledged write is missing from the replica")


if __name__ == "__main__":
    unittest.main()
