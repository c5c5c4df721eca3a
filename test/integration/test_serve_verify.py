"""serve --verify-interval: the server restores each replica in the background, compares it with
the live database, and says so in /metrics and in its log — and keeps serving when it fails."""

import os
import signal
import time
import unittest

from harness import LOAD_SCHEMA, run_cli, wait_until
from replica_harness import (Ballast, ReplicationTestCase, TimedLoad, error_records, file_replica_keys, file_url,
                             parse_layout, replica_metrics)

VERIFIED = "monolite_replica_verified_timestamp_seconds"
FAILURES = "monolite_replica_verify_failures_total"
DURATION = "monolite_replica_verify_duration_seconds"
WAIT_S = 45.0


def verify_metrics(client):
    """{metric: value} of the verification metrics of the one replica (None when absent)."""
    metrics = replica_metrics(client)
    out = {}
    for name in (VERIFIED, FAILURES, DURATION):
        values = metrics.get(name, {})
        out[name] = next(iter(values.values())) if len(values) == 1 else None
    return out


def scratch_files(db_path):
    """Files the verification may write next to the database."""
    folder, base = os.path.split(db_path)
    return [n for n in os.listdir(folder) if n.startswith(base + ".verify")]


class ServeVerifyTest(ReplicationTestCase):
    def start_verifying(self, *extra):
        workdir = self.make_tempdir()
        db_path = os.path.join(workdir, "app.db")
        root = os.path.join(workdir, "replica")
        server = self.start_replicated(db_path, file_url(root), "--verify-interval", "1s", *extra)
        return server, db_path, root

    def wait_verified_after(self, client, since, timeout=WAIT_S):
        """The verified timestamp once it is past `since` (None at the deadline)."""
        def newer():
            value = verify_metrics(client)[VERIFIED]
            return value if value is not None and value > since else None
        return wait_until(newer, timeout, interval=0.1)

    def test_the_verified_timestamp_advances_under_writes(self):
        server, db_path, _ = self.start_verifying()
        http = self.client(server)
        before = verify_metrics(http)
        self.assertEqual((before[VERIFIED], before[FAILURES]), (0.0, 0.0), "metrics before the first run")
        self.execute_ok(http, LOAD_SCHEMA)
        load = TimedLoad(server.port, 2, pause=0.01).start()
        try:
            seen = [0.0]
            for _ in range(3):
                stamp = self.wait_verified_after(http, seen[-1])
                self.assertIsNotNone(stamp, f"no new verification; log:\n{server.log_tail()}")
                seen.append(stamp)
        finally:
            load.stop()
        self.assertEqual(load.other_statuses, [])
        self.assertGreater(load.acked_count(), 10)
        final = verify_metrics(http)
        self.assertEqual(final[FAILURES], 0.0, server.log_tail())
        self.assertGreater(final[DURATION], 0.0)
        self.assertLess(abs(seen[-1] - time.time()), 60)
        verified = [r for r in server.log_records() if r.get("msg") == "replica verified"]
        self.assertGreaterEqual(len(verified), 3)
        self.assertTrue(all({"index", "frame", "ms", "generation"} <= set(r) for r in verified), verified[-1])
        self.assertTrue(any(r["frame"] > 0 for r in verified), verified)
        self.assertEqual(error_records(server), [])
        self.assertEqual(server.stop(), 0)
        self.assertEqual(scratch_files(db_path), [])

    def test_a_corrupted_segment_counts_failures_and_the_server_keeps_serving(self):
        server, db_path, root = self.start_verifying()
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        for row in range(1, 21):
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row])
        self.assertIsNotNone(self.wait_verified_after(http, 0.0), server.log_tail())
        _, segments, _ = parse_layout(file_replica_keys(root))
        self.assertTrue(segments)
        victim = segments[-1]
        path = os.path.join(root, victim.key)
        with open(path, "r+b") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(size // 2)
            byte = f.read(1)
            f.seek(size // 2)
            f.write(bytes([byte[0] ^ 0xFF]))
        # later commits: the damaged segment is now in the middle of what a restore needs
        for row in range(21, 41):
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row])
        grew = wait_until(lambda: (verify_metrics(http)[FAILURES] or 0) >= 2, WAIT_S, interval=0.1)
        self.assertTrue(grew, f"failures did not grow; log:\n{server.log_tail()}")
        failed = error_records(server, "replica verification failed")
        self.assertTrue(failed)
        reason = failed[-1].get("reason", "")
        self.assertTrue(reason, failed[-1])
        self.assertIn(victim.key.rsplit("/", 1)[-1].split("_")[0], reason, failed[-1])
        # still serving: reads, writes, readiness
        self.execute_ok(http, "INSERT INTO load VALUES (1000, 0, 0)")
        self.assertEqual(self.query_value(http, "SELECT count(*) FROM load"), 41)
        self.assertEqual(http.get("/readyz").status, 200)
        self.assertEqual(server.stop(), 0)
        self.assertEqual(scratch_files(db_path), [])

    def test_a_shutdown_during_a_verification_is_prompt_and_leaves_no_scratch(self):
        workdir = self.make_tempdir()
        db_path = os.path.join(workdir, "app.db")
        root = os.path.join(workdir, "replica")
        server = self.start_replicated(db_path, file_url(root), "--verify-interval", "1ms")
        http = self.client(server)
        ballast = Ballast(server.port, size=65536, pause=0.0).start()
        try:
            self.assertTrue(wait_until(lambda: ballast.count >= 200, WAIT_S), "ballast too slow")
        finally:
            ballast.stop()
        self.assertEqual(ballast.failures, [])
        self.assertIsNotNone(self.wait_verified_after(http, 0.0), server.log_tail())
        # the verifications run back to back: one is in flight now
        self.assertTrue(wait_until(lambda: scratch_files(db_path), WAIT_S, interval=0.005), "no verification seen")
        began = time.monotonic()
        server.send_signal(signal.SIGTERM)
        self.assertEqual(server.wait(10), 0, server.log_tail())
        self.assertLess(time.monotonic() - began, 10)
        self.assertEqual(scratch_files(db_path), [])

    def test_a_bad_verify_interval_exits_2(self):
        workdir = self.make_tempdir()
        url = file_url(os.path.join(workdir, "replica"))
        db_path = os.path.join(workdir, "app.db")
        for args, expect in ((["--replica", url, "--verify-interval", "soon"], "--verify-interval"),
                             (["--replica", url, "--verify-interval", "-1s"], "--verify-interval"),
                             (["--verify-interval", "1s"], "needs a --replica")):
            done = run_cli(["serve", "--db", db_path, "--listen", "127.0.0.1:0", *args])
            self.assertEqual(done.returncode, 2, f"{args}: {done.stderr}")
            self.assertIn(expect, done.stderr)
        self.assertFalse(os.path.exists(db_path))


if __name__ == "__main__":
    unittest.main()
