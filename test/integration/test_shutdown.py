"""SIGTERM/SIGINT: finish in-flight work, drain the writer, checkpoint, exit 0 in time."""

import http.client as http_client
import os
import signal
import time
import unittest

from harness import (LOAD_SCHEMA, Background, ServerTestCase, WriteLoad, db_file_integrity,
                     db_file_load_ids, db_file_rows, raw_request, read_load_ids,
                     read_response, unpaired_ids, wait_until)

GRACE_S = 5
IN_FLIGHT_GRACE_S = 30  # far longer than the in-flight write, even in sanitizer builds
EXIT_SLACK_S = 2.0
WRITERS = 4
MIN_ACKED_BEFORE_SIGNAL = 200
BULK_ROWS = 2_000_000
BULK_INSERT = ("INSERT INTO bulk(n) WITH RECURSIVE c(x) AS "
               f"(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {BULK_ROWS}) SELECT x FROM c")
# CPU-bound and tiny on disk: counting to 30M takes several seconds.
ENDLESS_COUNT = 30_000_000
ENDLESS_INSERT = ("INSERT INTO bulk(n) SELECT count(*) FROM (WITH RECURSIVE c(x) AS "
                  f"(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {ENDLESS_COUNT}) "
                  "SELECT x FROM c)")


class GracefulShutdownTest(ServerTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = os.path.join(self.workdir, "app.db")

    def start(self, grace=GRACE_S):
        return self.start_server("--shutdown-grace", str(grace),
                                 db_path=self.db_path, workdir=self.workdir)

    def signal_and_wait(self, server, sig, grace=GRACE_S):
        """Sends `sig`; returns (exit code or None, seconds until exit)."""
        started = time.monotonic()
        server.send_signal(sig)
        code = server.wait(grace + EXIT_SLACK_S)
        return code, time.monotonic() - started

    def assert_clean_exit(self, server, sig, grace=GRACE_S):
        code, elapsed = self.signal_and_wait(server, sig, grace)
        self.assertIsNotNone(code, f"still running {elapsed:.1f}s after {sig.name}")
        self.assertEqual(code, 0, f"exit code after {sig.name}; log:\n{server.log_tail()}")
        self.assertLessEqual(elapsed, grace + EXIT_SLACK_S)
        return elapsed

    def assert_checkpointed(self):
        wal = self.db_path + "-wal"
        size = os.path.getsize(wal) if os.path.exists(wal) else 0
        self.assertEqual(size, 0, "WAL not checkpointed at shutdown")

    def execute_and_close(self, server, sql):
        """One statement on a connection that is closed again, so no idle client lingers."""
        http = server.client()
        try:
            self.execute_ok(http, sql)
        finally:
            http.close()

    def test_sigterm_under_load(self):
        server = self.start()
        self.execute_and_close(server, LOAD_SCHEMA)
        load = WriteLoad(server.port, WRITERS, pairs=True).start()
        reached = wait_until(lambda: load.acked_count() >= MIN_ACKED_BEFORE_SIGNAL, timeout=30)
        try:
            self.assertTrue(reached, "too few writes acknowledged before the signal")
            self.assert_clean_exit(server, signal.SIGTERM)
        finally:
            load.stop()
            load.join(timeout=30)
        self.assertTrue({s for s, _ in load.statuses()} <= {200, 503}, load.statuses())
        self.assert_checkpointed()

        self.assertEqual(db_file_integrity(self.db_path), ["ok"])
        ids = db_file_load_ids(self.db_path)
        self.assertEqual(load.acked() - ids, set(), "acknowledged writes lost")
        self.assertEqual(unpaired_ids(ids), set())

        restarted = self.start()
        self.assertTrue(load.acked() <= read_load_ids(self.client(restarted)))

    def test_in_flight_write_finishes_before_exit(self):
        server = self.start(grace=IN_FLIGHT_GRACE_S)
        http = self.client(server)
        self.execute_ok(http, "CREATE TABLE bulk(n INTEGER)")
        request = Background(lambda: http.execute(BULK_INSERT))
        time.sleep(0.15)
        signalled_at = time.monotonic()
        self.assert_clean_exit(server, signal.SIGTERM, IN_FLIGHT_GRACE_S)

        self.assertEqual(self.assert_ok(request.wait(10))["results"][0]["rows_affected"],
                         BULK_ROWS)
        self.assertGreater(request.finished_at, signalled_at,
                           "the write finished before the signal; nothing was in flight")
        restarted = self.start()
        self.assertEqual(self.query_value(self.client(restarted), "SELECT count(*) FROM bulk"),
                         BULK_ROWS)

    def test_sigint_with_idle_keepalive_connection(self):
        server = self.start()
        sock = self.socket(server)
        sock.sendall(raw_request("GET", "/healthz"))
        self.assert_ok(read_response(sock.makefile("rb")))
        elapsed = self.assert_clean_exit(server, signal.SIGINT)
        self.assertLess(elapsed, GRACE_S / 2, "an idle keep-alive client held up the exit")
        self.assert_checkpointed()

    def test_idle_server_exits_promptly(self):
        server = self.start()
        self.execute_and_close(server, "CREATE TABLE t(x)")
        elapsed = self.assert_clean_exit(server, signal.SIGTERM)
        self.assertLess(elapsed, GRACE_S / 2, "an idle server should not wait out the grace")

    def test_grace_period_bounds_a_request_that_runs_too_long(self):
        grace = 1
        server = self.start(grace)
        http = self.client(server)
        self.execute_ok(http, "CREATE TABLE bulk(n INTEGER)")
        request = Background(lambda: http.execute(ENDLESS_INSERT))
        time.sleep(0.3)
        code, elapsed = self.signal_and_wait(server, signal.SIGTERM, grace)
        if code is None:
            server.kill9()
            self.fail(f"still running {elapsed:.1f}s after a {grace}s grace")
        try:
            request.wait(10)
        except (OSError, http_client.HTTPException):
            pass  # the server may drop the connection when the grace runs out

        self.assertEqual(db_file_integrity(self.db_path), ["ok"])
        rows = db_file_rows(self.db_path, "SELECT n FROM bulk")
        self.assertIn(rows, ([], [(ENDLESS_COUNT,)]), "a half-done write was committed")


if __name__ == "__main__":
    unittest.main()
