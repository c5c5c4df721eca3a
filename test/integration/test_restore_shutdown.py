"""SIGTERM while `serve --restore-if-missing` is still restoring: the process exits within the
grace period and --db is either absent or never half-restored; the next start restores cleanly.

The replica is in moto behind the fault proxy, which makes the restore slow (every request waits)
or stalls its downloads, so that the signal lands inside the restore."""

import os
import signal
import time
import unittest

from harness import LOAD_SCHEMA, Server, free_port, serve_args, wait_until
from replica_harness import (FAST, FaultProxy, error_records, parse_layout,
                             wait_caught_up)
from test_replication_s3 import S3TestCase

GRACE_S = 4.0
EXIT_MARGIN_S = 3.0
MIN_SEGMENTS = 24
RESTORE_STARTED = "restoring generation"


class RestoreShutdownTest(S3TestCase):
    def setUp(self):
        super().setUp()
        self.proxy = FaultProxy(self.s3.port)
        self.addCleanup(self.proxy.stop)
        self.expected = self.populate()
        self.db_path = os.path.join(self.workdir, "fresh", "app.db")

    def populate(self):
        """A replica of one snapshot and at least MIN_SEGMENTS WAL segments; the ids written."""
        source = os.path.join(self.workdir, "source.db")
        server = self.start_replicated(source, self.s3.url(self.prefix, force_path_style="true"),
                                       workdir=self.workdir, env=self.env)
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        ids = set()

        def another_segment():
            row = len(ids) + 1
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row])
            ids.add(row)
            return len(self.segments()) >= MIN_SEGMENTS

        self.assertTrue(wait_until(another_segment, timeout=60, interval=0.02),
                        f"only {len(self.segments())} WAL segments")
        self.assertTrue(wait_caught_up(http))
        self.assertEqual(server.stop(), 0, server.log_tail())
        return ids

    def segments(self):
        keys = [k[len(self.prefix) + 1:] for k in self.s3.keys(self.prefix + "/")]
        return parse_layout(keys)[1]

    def proxied_url(self):
        url = self.s3.url(self.prefix, force_path_style="true")
        return url.replace(f"127.0.0.1%3A{self.s3.port}", f"127.0.0.1%3A{self.proxy.port}")

    def boot(self):
        """A server restoring into self.db_path through the proxy (not waited for)."""
        port = free_port()
        args = serve_args(self.db_path, port, ["--replica", self.proxied_url(), *FAST, "--restore-if-missing",
                                               "--shutdown-grace", f"{GRACE_S}s"])
        server = Server(self.workdir, args, port, env=self.env)
        self.start_custom_server(server)
        return server

    def restore_started(self, server):
        return any(str(r.get("msg", "")).startswith(RESTORE_STARTED) for r in server.log_records())

    def terminate_during_restore(self, server):
        """SIGTERM once the restore is under way; (exit code, seconds from the signal to the exit)."""
        self.assertTrue(wait_until(lambda: self.restore_started(server), timeout=30), server.log_tail())
        self.assertFalse(os.path.exists(self.db_path), "the restore finished before the signal")
        self.assertEqual(self.client(server, timeout=5).get("/readyz").status, 503)
        signalled = time.monotonic()
        server.send_signal(signal.SIGTERM)
        code = server.wait(GRACE_S + EXIT_MARGIN_S)
        elapsed = time.monotonic() - signalled
        self.assertIsNotNone(code, f"still running {elapsed:.1f} s after SIGTERM:\n{server.log_tail()}")
        return code, elapsed

    def assert_nothing_left(self):
        folder = os.path.dirname(self.db_path)
        left = sorted(n for n in os.listdir(folder) if n.startswith("app.db")) if os.path.isdir(folder) else []
        self.assertEqual(left, [], "the interrupted restore left files beside --db")

    def assert_restores_on_the_next_start(self):
        self.proxy.set_mode("pass")
        server = self.boot()
        http = self.client(server)
        self.assertTrue(wait_until(lambda: http.get("/readyz").status == 200, timeout=60), server.log_tail())
        self.assertEqual({r[0] for r in self.query_rows(http, "SELECT id FROM load")}, self.expected)
        self.assertEqual(self.query_value(http, "PRAGMA integrity_check"), "ok")
        self.assertIn("restored", [r.get("msg") for r in server.log_records()], server.log_tail())
        self.assertEqual(error_records(server), [])

    def test_sigterm_during_a_slow_restore_stops_it_between_objects(self):
        self.proxy.delay_s = 1.5
        self.proxy.set_mode("slow")
        server = self.boot()
        code, elapsed = self.terminate_during_restore(server)
        self.assertEqual(code, 0, server.log_tail())
        self.assertLess(elapsed, GRACE_S, "the restore was not stopped before the grace period ended")
        self.assertIn("restore stopped by the shutdown; nothing opened",
                      [r.get("msg") for r in server.log_records()], server.log_tail())
        self.assertNotIn("listening", [r.get("msg") for r in server.log_records()])
        self.assert_nothing_left()
        self.assert_restores_on_the_next_start()

    def test_sigterm_during_a_stalled_download_exits_1_at_the_end_of_the_grace_period(self):
        self.proxy.set_mode("stall_objects")
        server = self.boot()
        code, elapsed = self.terminate_during_restore(server)
        self.assertEqual(code, 1, server.log_tail())
        self.assertGreaterEqual(elapsed, GRACE_S - 0.5, "exited before the grace period was over")
        self.assertTrue(error_records(server, "grace period"), server.log_tail())
        self.assert_nothing_left()
        self.assert_restores_on_the_next_start()


if __name__ == "__main__":
    unittest.main()
