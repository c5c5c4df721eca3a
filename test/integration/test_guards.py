"""The WAL's guards: read snapshots and WAL size in /metrics, their warnings, read-transaction slots.

A read snapshot held open keeps the WAL from being checkpointed past it; these tests hold one
through a Hrana read transaction (BEGIN TRANSACTION READONLY) and watch /metrics and the log.
Every wait polls a real condition (/metrics or the log) with a deadline; /metrics never touches a
Hrana stream, so polling it cannot keep a stream alive.
"""

import time
import unittest

from harness import ServerTestCase, run_cli, wait_until
from test_hrana import CLOSE, HranaCase, execute

IDLE_EXPIRY_S = 10.0  # Hrana streams idle this long expire (fixed)
SNAPSHOT_WARNING = "a read snapshot is older than --read-snapshot-warning; the WAL cannot be checkpointed past it"
WAL_WARNING = "the WAL is larger than --wal-size-warning"
BEGIN_READ = [execute("BEGIN TRANSACTION READONLY"), execute("SELECT count(*) FROM sqlite_master")]


class GuardCase(HranaCase):
    def metric(self, client, name):
        resp = client.get("/metrics")
        self.assertEqual(resp.status, 200, resp.raw[:300])
        values = [line.split()[1] for line in resp.raw.decode().splitlines() if line.startswith(name + " ")]
        self.assertEqual(len(values), 1, f"no {name} in /metrics")
        return float(values[0])

    def logged(self, server, msg):
        return [r for r in server.log_records() if r.get("msg") == msg]


class ReadSnapshotGuardTest(GuardCase):
    def test_a_held_read_transaction_ages_warns_once_and_keeps_the_wal_growing(self):
        server = self.start_server("--read-snapshot-warning", "1s", "--wal-size-warning", "262144",
                                   "--transaction-timeout", "60s")
        client = self.client(server)
        self.execute_ok(client, "CREATE TABLE big(v BLOB)")
        self.assertEqual(self.metric(client, "monolite_read_snapshots"), 0)
        self.assertEqual(self.metric(client, "monolite_read_snapshot_oldest_seconds"), 0)
        held = self.ok(client, BEGIN_READ)
        self.assertGreaterEqual(self.metric(client, "monolite_read_snapshots"), 1)
        aged = wait_until(lambda: self.metric(client, "monolite_read_snapshot_oldest_seconds") >= 1.5, timeout=8)
        self.assertTrue(aged, "monolite_read_snapshot_oldest_seconds did not grow past 1.5 s")
        warned = wait_until(lambda: self.logged(server, SNAPSHOT_WARNING), timeout=5)
        self.assertTrue(warned, f"no warning logged; log:\n{server.log_tail()}")
        self.assertEqual(warned[0]["level"], "warn")
        self.assertGreater(warned[0]["oldest_seconds"], 1.0)

        # Writes go on while the snapshot is held: the WAL cannot restart, so it grows.
        before = self.metric(client, "monolite_wal_bytes")
        for _ in range(8):
            self.execute_ok(client, "INSERT INTO big(v) VALUES (randomblob(65536))")
        after = self.metric(client, "monolite_wal_bytes")
        self.assertGreater(after, before + 8 * 65536, (before, after))
        wal_warned = wait_until(lambda: self.logged(server, WAL_WARNING), timeout=5)
        self.assertTrue(wal_warned, f"no WAL warning logged; log:\n{server.log_tail()}")
        self.assertGreater(wal_warned[0]["wal_bytes"], 262144)

        # Once per crossing: still held, still one warning; after the end, a recovery line.
        self.assertEqual(len(self.logged(server, SNAPSHOT_WARNING)), 1)
        self.ok(client, [execute("COMMIT"), CLOSE], baton=held["baton"])
        self.assertEqual(self.metric(client, "monolite_read_snapshots"), 0)
        cleared = wait_until(
            lambda: self.logged(server, "no read snapshot is older than --read-snapshot-warning any more"), timeout=5)
        self.assertTrue(cleared, f"no recovery logged; log:\n{server.log_tail()}")
        self.assertEqual(len(self.logged(server, SNAPSHOT_WARNING)), 1)


class ReadTransactionSlotsTest(GuardCase):
    def test_abandoned_read_transactions_free_their_slots_at_the_timeout(self):
        server = self.start_server("--max-read-transactions", "2", "--transaction-timeout", "1s")
        client = self.client(server)
        started = time.monotonic()
        abandoned = [self.ok(client, BEGIN_READ) for _ in range(2)]
        third = self.ok(client, BEGIN_READ + [CLOSE])
        self.result_error(third["results"][0], "TRANSACTION_BUSY")
        self.assertEqual(self.metric(client, "monolite_read_snapshots"), 2)
        # No request touches the abandoned streams: only a timer can free their slots.
        freed = wait_until(lambda: self.metric(client, "monolite_read_snapshots") == 0, timeout=5)
        self.assertTrue(freed, "the abandoned read transactions still hold their slots")
        self.assertLess(time.monotonic() - started, IDLE_EXPIRY_S, "freed by the idle expiry, not the timeout")
        retried = self.ok(client, BEGIN_READ + [{"type": "get_autocommit"}, CLOSE])
        self.result_ok(retried["results"][0])
        self.assertFalse(self.result_ok(retried["results"][2])["is_autocommit"])
        late = self.ok(client, [execute("SELECT 1"), CLOSE], baton=abandoned[0]["baton"])
        self.result_error(late["results"][0], "TRANSACTION_TIMEOUT")

    def test_closing_a_stream_frees_its_slot_at_once(self):
        server = self.start_server("--max-read-transactions", "1", "--transaction-timeout", "60s")
        client = self.client(server)
        first = self.ok(client, BEGIN_READ)
        busy = self.ok(client, BEGIN_READ + [CLOSE])
        self.result_error(busy["results"][0], "TRANSACTION_BUSY")
        self.ok(client, [CLOSE], baton=first["baton"])
        self.assertEqual(self.metric(client, "monolite_read_snapshots"), 0)
        second = self.ok(client, BEGIN_READ + [CLOSE])
        self.result_ok(second["results"][0])


class GuardFlagsTest(unittest.TestCase):
    def test_bad_values_exit_2_naming_the_flag(self):
        for flag, value in (("--max-read-transactions", "0"), ("--max-read-transactions", "lots"),
                            ("--read-snapshot-warning", "soon"), ("--read-snapshot-warning", "-1s"),
                            ("--wal-size-warning", "-1"), ("--wal-size-warning", "1GB")):
            with self.subTest(flag=flag, value=value):
                result = run_cli(["serve", "--db", "/nonexistent/never-opened.db", flag, value])
                self.assertEqual(result.returncode, 2, f"stderr: {result.stderr}")
                self.assertTrue(result.stderr.startswith(f"monolite: {flag}: '{value}'"), result.stderr)
                self.assertIn("Run 'monolite --help' for usage.", result.stderr)

    def test_the_flags_are_in_the_help(self):
        result = run_cli(["serve", "--help"])
        self.assertEqual(result.returncode, 0, result.stderr)
        for flag in ("--max-read-transactions", "--read-snapshot-warning", "--wal-size-warning"):
            self.assertIn(flag, result.stdout)


if __name__ == "__main__":
    unittest.main()
