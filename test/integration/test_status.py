"""The migration trigger, measured: GET /admin/status, `monolite advise` and the /metrics series.

The verdicts judge rates over --advise-window (default 15m); these tests make it 2s, so that a
burst of writes turns the commits verdict to "plan the move" and, once the writes stop, back to
"ok" within seconds. Every wait polls a real condition (/admin/status) with a deadline.
"""

import json
import os
import threading
import unittest

from harness import Background, ServerTestCase, bearer, run_cli, wait_until
from test_security import auth_file_text, new_token, write_file

DOCS_POINTER = "docs/operations.md 'When to move, and how'"


class StatusCase(ServerTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()
        self.tokens = {"admin": new_token(), "write": new_token()}
        self.auth_path = write_file(os.path.join(self.workdir, "auth.yaml"), auth_file_text(
            [(role, token, role) for role, token in self.tokens.items()]))

    def start(self, *extra):
        server = self.start_server("--auth", self.auth_path, *extra, workdir=self.workdir)
        return server, self.client(server, headers=bearer(self.tokens["admin"]))

    def status(self, admin):
        resp = admin.get("/admin/status")
        self.assertEqual(resp.status, 200, resp.raw[:300])
        return json.loads(resp.raw)

    def verdict(self, status, name):
        return next(v for v in status["verdicts"] if v["name"] == name)

    def advise(self, server, *extra, token=None):
        env = {"MONOLITE_TOKEN": token if token is not None else self.tokens["admin"]}
        return run_cli(["advise", "--url", f"http://127.0.0.1:{server.port}", *extra], env=env)

    def metrics(self, admin):
        resp = admin.get("/metrics")
        self.assertEqual(resp.status, 200, resp.raw[:300])
        values = {}
        for line in resp.raw.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values


class VerdictTest(StatusCase):
    def write_until(self, server, stop):
        writer = self.client(server, headers=bearer(self.tokens["write"]))
        written = 0
        while not stop.is_set():
            resp = writer.execute("INSERT INTO t(v) VALUES (?)", [written])
            self.assertEqual(resp.status, 200, resp.raw[:300])
            written += 1
        return written

    def test_a_write_burst_turns_the_commit_verdict_to_plan_the_move_and_back_to_ok(self):
        server, admin = self.start("--advise-commits-per-second", "5", "--advise-window", "2s")
        self.assertEqual(admin.execute("CREATE TABLE t(v)").status, 200)
        calm = self.status(admin)
        self.assertEqual(calm["verdict_window_seconds"], 2)
        self.assertEqual(set(calm["windows"]), {"1m", "15m", "1h", "24h"})

        stop = threading.Event()
        load = Background(lambda: self.write_until(server, stop))
        try:
            planned = wait_until(
                lambda: self.verdict(self.status(admin), "commits_per_second")["state"] == "plan the move", timeout=20)
            self.assertTrue(planned, self.status(admin))
            busy = self.verdict(self.status(admin), "commits_per_second")
            self.assertGreaterEqual(busy["value"], 5)
            self.assertEqual(busy["threshold"], 5)
            self.assertLess(busy["headroom"], 0)
            advised = self.advise(server)
            self.assertEqual(advised.returncode, 1, advised.stdout + advised.stderr)
            line = next(l for l in advised.stdout.splitlines() if l.startswith("group commits "))
            self.assertIn("plan the move", line)
            self.assertIn(DOCS_POINTER, advised.stdout)
        finally:
            stop.set()
        self.assertGreater(load.wait(timeout=30), 0)

        # No more writes: two seconds later every rate of the window is back to zero.
        calmed = wait_until(lambda: self.status(admin)["state"] == "ok", timeout=20)
        self.assertTrue(calmed, self.status(admin))
        advised = self.advise(server)
        self.assertEqual(advised.returncode, 0, advised.stdout + advised.stderr)
        self.assertNotIn("plan the move", advised.stdout)
        as_json = self.advise(server, "--json")
        self.assertEqual(as_json.returncode, 0, as_json.stderr)
        self.assertEqual(json.loads(as_json.stdout)["state"], "ok")
        minute = self.status(admin)["windows"]["1m"]
        self.assertGreater(minute["commits_per_second"], 0)  # the burst is still inside the minute
        self.assertGreater(minute["writer_busy_fraction"], 0)
        self.assertLessEqual(minute["writer_busy_fraction"], 1)
        self.assertGreater(minute["commit_p99_seconds"], 0)
        self.assertGreaterEqual(minute["peak_connections"], 1)
        self.assertEqual(minute["peak_client_addresses"], 1)  # everything here comes from 127.0.0.1


class MetricsTest(StatusCase):
    def test_the_new_series_count_what_was_done(self):
        server, admin = self.start("--long-read-threshold", "1ms")
        self.assertEqual(admin.execute("CREATE TABLE t(v)").status, 200)
        for i in range(20):
            self.assertEqual(admin.execute("INSERT INTO t(v) VALUES (?)", [i]).status, 200)
        slow = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) SELECT count(*) FROM c"
        self.assertEqual(admin.query(slow).status, 200)
        for _ in range(4):
            self.assertEqual(admin.query("SELECT count(*) FROM t").status, 200)
        m = self.metrics(admin)
        self.assertEqual(m['monolite_http_request_duration_seconds_count{route="/sql/execute"}'], 21)
        self.assertEqual(m['monolite_http_request_duration_seconds_bucket{route="/sql/execute",le="+Inf"}'], 21)
        self.assertEqual(m['monolite_http_request_duration_seconds_count{route="/sql/query"}'], 5)
        self.assertGreater(m['monolite_http_request_duration_seconds_sum{route="/sql/query"}'], 0)
        self.assertEqual(m["monolite_writer_write_statements_total"], 21)
        commits = m["monolite_writer_commits_total"]
        self.assertEqual(commits, 21)  # one client, one request at a time: one request per group
        self.assertEqual(m["monolite_writer_group_size_count"], commits)
        self.assertEqual(m["monolite_writer_group_size_sum"], 21)
        self.assertEqual(m["monolite_writer_commit_duration_seconds_count"], commits)
        self.assertGreater(m["monolite_writer_busy_seconds_total"], 0)
        self.assertEqual(m["monolite_writer_busy_seconds_total"], m["monolite_writer_commit_duration_seconds_sum"])
        self.assertEqual(m["monolite_read_duration_seconds_count"], 5)
        self.assertGreaterEqual(m["monolite_long_reads_total"], 1)  # the recursive count, at least
        self.assertGreater(m["monolite_database_bytes"], 0)
        self.assertIn("monolite_checkpoints_incomplete_total", m)
        self.assertIn("monolite_wal_bytes", m)
        self.assertEqual(m["monolite_http_open_connections"], 1)
        self.assertIn("monolite_hrana_open_streams", m)


class AccessTest(StatusCase):
    def test_only_the_admin_role_reads_the_status_and_advise_says_why_it_cannot(self):
        server, _ = self.start()
        writer = self.client(server, headers=bearer(self.tokens["write"]))
        refused = writer.get("/admin/status")
        self.assertEqual(refused.status, 403)
        self.assertEqual(json.loads(refused.raw)["error"]["code"], "FORBIDDEN")
        self.assertEqual(self.client(server).get("/admin/status").status, 401)
        advised = self.advise(server, token=self.tokens["write"])
        self.assertEqual(advised.returncode, 3, advised.stdout + advised.stderr)
        self.assertIn("403", advised.stderr)

    def test_advise_exit_codes_for_an_unreachable_server_and_bad_usage(self):
        server, _ = self.start()
        port = server.port
        server.stop()
        unreachable = run_cli(["advise", "--url", f"http://127.0.0.1:{port}", "--timeout", "2s"])
        self.assertEqual(unreachable.returncode, 3, unreachable.stdout + unreachable.stderr)
        self.assertIn("cannot reach", unreachable.stderr)
        self.assertEqual(run_cli(["advise", "--url", "ftp://x"]).returncode, 2)
        self.assertEqual(run_cli(["advise", "--nope"]).returncode, 2)


if __name__ == "__main__":
    unittest.main()
