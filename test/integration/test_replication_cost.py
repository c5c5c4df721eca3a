"""What replication costs in requests (monolite_replica_requests_total{kind}): an idle server makes
no PUT and no LIST even with snapshot and retention checks due every second, and at a steady
write rate the PUTs follow from --replica-interval alone."""

import time
import unittest

from harness import wait_until
from replica_harness import parse_prometheus_strict, replica_metrics, wait_caught_up
from test_replication_s3 import S3TestCase

IDLE_S = 5.0
STEADY_S = 6.0
WRITES_PER_S = 10
INTERVAL_S = 0.5


def requests_by_kind(client):
    """{kind: count} of the one replica, read with the strict exposition parser."""
    resp = client.get("/metrics")
    assert resp.status == 200, resp.raw[:300]
    return {labels["kind"]: value for name, labels, value in parse_prometheus_strict(resp.raw.decode())
            if name == "monolite_replica_requests_total"}


def wait_settled(client, timeout=30.0):
    """Until a retention LIST has followed the last PUT: every check that was due has run."""
    deadline = time.monotonic() + timeout
    last_put, list_at_put = None, None
    while time.monotonic() < deadline:
        counts = requests_by_kind(client)
        if counts.get("put") != last_put:
            last_put, list_at_put = counts.get("put"), counts.get("list", 0)
        elif counts.get("list", 0) > list_at_put:
            return counts
        time.sleep(0.1)  # polling period
    raise AssertionError("the replica's checks did not settle")


class ReplicationCostTest(S3TestCase):
    def test_an_idle_server_makes_no_put_and_no_list(self):
        server = self.serve("--snapshot-interval", "1s", "--retention-check", "1s")
        http = self.client(server)
        self.execute_ok(http, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        self.execute_ok(http, "INSERT INTO t(v) VALUES ('x')")
        self.assertTrue(wait_caught_up(http))
        # The periodic snapshot of the change and the retention check after it run first.
        self.assertTrue(wait_until(lambda: replica_metrics(http)["monolite_replica_snapshots_total"] and
                                   max(replica_metrics(http)["monolite_replica_snapshots_total"].values()) >= 2,
                                   timeout=30), "no periodic snapshot after the write")
        before = wait_settled(http)
        self.assertGreater(before.get("put", 0), 0, before)
        quiet_until = time.monotonic() + IDLE_S  # five snapshot and retention intervals
        wait_until(lambda: time.monotonic() >= quiet_until, timeout=IDLE_S + 5)
        after = requests_by_kind(http)
        self.assertEqual(after.get("put", 0), before.get("put", 0), f"PUTs while idle: {before} -> {after}")
        self.assertEqual(after.get("list", 0), before.get("list", 0), f"LISTs while idle: {before} -> {after}")

    def test_steady_writes_cost_what_the_interval_says(self):
        server = self.serve("--replica-interval", f"{int(INTERVAL_S * 1000)}ms")
        http = self.client(server)
        self.execute_ok(http, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        self.assertTrue(wait_caught_up(http, interval_s=INTERVAL_S))
        before = requests_by_kind(http)
        started = time.monotonic()
        for i in range(int(STEADY_S * WRITES_PER_S)):
            due = started + i / WRITES_PER_S
            wait_until(lambda: time.monotonic() >= due, timeout=5, interval=0.005)  # the write's slot
            self.execute_ok(http, "INSERT INTO t(v) VALUES (?)", [f"row {i}"])
        elapsed = time.monotonic() - started
        after = requests_by_kind(http)
        puts = after.get("put", 0) - before.get("put", 0)
        expected = elapsed / INTERVAL_S
        self.assertLessEqual(abs(puts - expected), 2, f"{puts} PUTs in {elapsed:.1f} s at {INTERVAL_S} s intervals")
        self.assertEqual(after.get("list", 0), before.get("list", 0))
        self.assertEqual(after.get("get", 0), before.get("get", 0))


if __name__ == "__main__":
    unittest.main()
