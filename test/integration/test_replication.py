"""Replication to a file replica: kill -9 drills, restarts, point-in-time restores, generations."""

import os
import random
import time
import unittest

from harness import LOAD_SCHEMA, db_file_load_ids, wait_until
from replica_harness import (Ballast, ReplicationTestCase, SequentialWriter, TimedLoad, file_replica_keys,
                             file_url, generations, metric, parse_layout, parse_prometheus_strict, restore,
                             rfc3339, server_metric, wait_caught_up)

KILL_CYCLES = 3
WRITERS = 4
WRITERS_PER_CYCLE = 10
MIN_ACKS_BEFORE_KILL = 300
LOAD_BEFORE_KILL_S = 1.5
ACK_GRACE_S = 1.0  # async mode: a write acknowledged this long before the kill is in the replica


class FileReplicaTestCase(ReplicationTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = os.path.join(self.workdir, "app.db")
        self.replica_dir = os.path.join(self.workdir, "replica")
        self.url = file_url(self.replica_dir)

    def serve(self, *extra):
        return self.start_replicated(self.db_path, self.url, *extra, workdir=self.workdir)

    def output(self, name):
        return os.path.join(self.workdir, "restored", name)

    FIRST_ROWS, SECOND_ROWS = set(range(1, 51)), set(range(1000, 1021))

    def make_two_generations(self):
        """Two server runs, the second after a lost disk (so a new generation): (old id, new id)."""
        for rows in (self.FIRST_ROWS, self.SECOND_ROWS):
            server = self.serve()
            http = self.client(server)
            self.execute_ok(http, LOAD_SCHEMA)
            for row in sorted(rows):
                self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row])
            self.assertTrue(wait_caught_up(http))
            self.assertEqual(server.stop(), 0)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.db_path + suffix):
                    os.remove(self.db_path + suffix)
        done, ids = generations(self.url)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(len(ids), 2, done.stdout)
        # which one is older, by the snapshot times (ids of the same second differ only randomly)
        snapshots, _, _ = parse_layout(file_replica_keys(self.replica_dir))
        started = {g: min(s.time_s for s in snapshots if s.generation == g) for g in ids}
        old, new = sorted(ids, key=started.get)
        return old, new

    def assert_one_generation(self):
        done, ids = generations(self.url)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(len(ids), 1, f"expected one generation:\n{done.stdout}")
        return ids[0]


class KillNineDrillTest(FileReplicaTestCase):
    """Writes under load, kill -9, restore elsewhere: what was acknowledged is there."""

    def drill(self, sync):
        extra = ("--replica-sync", "--replica-sync-timeout", "10s") if sync else ()
        must_have, sent = set(), set()
        for cycle in range(KILL_CYCLES):
            server = self.serve(*extra)
            http = self.client(server)
            self.execute_ok(http, LOAD_SCHEMA)
            load = TimedLoad(server.port, WRITERS, first_writer=cycle * WRITERS_PER_CYCLE).start()
            started = time.monotonic()
            reached = wait_until(lambda: load.acked_count() >= MIN_ACKS_BEFORE_KILL and
                                 time.monotonic() - started >= LOAD_BEFORE_KILL_S, timeout=30)
            time.sleep(random.uniform(0.0, 0.4))
            killed_at = time.monotonic()
            server.kill9()
            load.stop()
            self.assertTrue(reached, f"cycle {cycle}: only {load.acked_count()} writes acknowledged")
            self.assertEqual(load.other_statuses, [], f"cycle {cycle}: writes failed")
            must_have |= load.acked() if sync else load.acked_before(killed_at - ACK_GRACE_S)
            sent |= load.sent

            ids = self.restore_ok(self.output(f"cycle{cycle}.db"), self.url)
            self.assert_restored_load(ids, must_have, sent)
            lost = len(load.acked() - ids)
            self.assertLess(lost, len(load.acked()), "the restore holds none of this cycle's writes")

    def test_async_acknowledged_writes_survive_kill9(self):
        self.drill(sync=False)

    def test_sync_every_acknowledged_write_survives_kill9(self):
        self.drill(sync=True)


class RestartTest(FileReplicaTestCase):
    """A restart — SIGTERM or kill -9 — continues the generation when the WAL is continuous."""

    def test_restart_continues_the_generation(self):
        acked = set()
        generation = None
        for cycle, how in enumerate(["term", "kill", "term", "kill", "kill"]):
            server = self.serve()
            http = self.client(server)
            self.execute_ok(http, LOAD_SCHEMA)
            load = TimedLoad(server.port, WRITERS, first_writer=cycle * WRITERS_PER_CYCLE).start()
            wait_until(lambda: load.acked_count() >= 200, timeout=30)
            load.stop()
            self.assertEqual(load.other_statuses, [])
            self.assertGreaterEqual(load.acked_count(), 200)
            acked |= load.acked()
            self.assertTrue(wait_caught_up(http, new_generation=cycle == 0), "the replica did not catch up")
            if how == "term":
                self.assertEqual(server.stop(), 0, server.log_tail())
            else:
                server.kill9()

            current = self.assert_one_generation()
            if generation is None:
                generation = current
            self.assertEqual(current, generation, f"cycle {cycle} ({how}) started a new generation:\n"
                                                  f"{server.log_tail()}")
            ids = self.restore_ok(self.output(f"cycle{cycle}.db"), self.url)
            self.assertEqual({i for i in ids if i > 0}, acked, f"cycle {cycle} ({how}): restore not exact")

        snapshots, segments, others = parse_layout(file_replica_keys(self.replica_dir))
        self.assertEqual(others, [])
        self.assertEqual({s.generation for s in snapshots + segments}, {generation})
        self.assertGreater(len(segments), 0)


class PointInTimeTest(FileReplicaTestCase):
    def test_restore_at_a_time_returns_exactly_the_rows_committed_before_it(self):
        server = self.serve("--snapshot-interval", "1s")
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        began = time.time()
        writer = SequentialWriter(server.port, pause=0.03).start()
        ballast = Ballast(server.port).start()  # WAL restarts between the marks
        marks = []
        for offset in (0.4, 1.3, 2.2, 3.1, 4.0):
            wait_until(lambda: writer.quiet_point_after(began + offset + 0.2) is not None, timeout=30)
            marks.append(writer.quiet_point_after(began + offset))
        writer.stop()
        ballast.stop()
        self.assertEqual(writer.failures, [])
        self.assertEqual(ballast.failures, [])
        self.assertNotIn(None, marks)
        self.assertTrue(wait_caught_up(http))

        snapshots, segments, _ = parse_layout(file_replica_keys(self.replica_dir))
        self.assertGreaterEqual(len(snapshots), 3, "expected periodic snapshots (--snapshot-interval 1s)")
        self.assertGreaterEqual(max(s.index for s in segments), 3, "expected WAL restarts")
        for n, (mark, expected) in enumerate(marks):
            ids = self.restore_ok(self.output(f"t{n}.db"), self.url, "--timestamp", rfc3339(mark))
            self.assertEqual(ids, expected, f"restore at {rfc3339(mark)}: wrong rows")
        # the same instant spelled with a UTC offset
        mark, expected = marks[2]
        spelled = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(mark + 3600)) + \
            f".{int(mark * 1000) % 1000:03d}+01:00"
        self.assertEqual(self.restore_ok(self.output("offset.db"), self.url, "--timestamp", spelled), expected)

        before = rfc3339(began - 3600)
        done = self.assert_restore_fails(self.output("early.db"), self.url, "--timestamp", before)
        self.assertIn("no snapshot at or before", done.stderr)
        done = restore(self.output("bad-time.db"), self.url, "--timestamp", "yesterday")
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("--timestamp", done.stderr)

    def test_generation_flag_picks_the_generation(self):
        first_rows, second_rows = self.FIRST_ROWS, self.SECOND_ROWS
        old, new = self.make_two_generations()
        self.assertEqual(self.restore_ok(self.output("old.db"), self.url, "--generation", old), first_rows)
        self.assertEqual(self.restore_ok(self.output("new.db"), self.url, "--generation", new), second_rows)

        # a time after the first generation's last commit and before the second one began
        snapshots, segments, _ = parse_layout(file_replica_keys(self.replica_dir))
        old_end = max(s.last_time_s for s in segments if s.generation == old)
        new_start = min(s.time_s for s in snapshots if s.generation == new)
        self.assertLess(old_end + 0.02, new_start)
        between = rfc3339((old_end + new_start) / 2)
        self.assertEqual(self.restore_ok(self.output("between.db"), self.url, "--timestamp", between), first_rows)
        self.assertEqual(self.restore_ok(self.output("latest.db"), self.url), second_rows)

        done = self.assert_restore_fails(self.output("bogus.db"), self.url,
                                         "--generation", "20000101T000000Z-deadbeef")
        self.assertIn("20000101T000000Z-deadbeef", done.stderr)
        old_start = min(s.time_s for s in snapshots if s.generation == old)
        done = self.assert_restore_fails(self.output("too-early.db"), self.url, "--generation", old,
                                         "--timestamp", rfc3339(old_start - 5))
        self.assertIn("no snapshot at or before", done.stderr)


class SameSecondGenerationsTest(FileReplicaTestCase):
    def test_latest_restore_uses_the_newest_generation_started_in_the_same_second(self):
        old, new = self.make_two_generations()
        # Generation ids name their start to the second plus a random suffix. Give the newer
        # generation the older one's second and a suffix that sorts first: what two generations
        # started within one second look like half of the time.
        renamed = old.split("-")[0] + "-00000000"
        self.assertNotEqual(renamed, old)
        root = os.path.join(self.replica_dir, "generations")
        os.rename(os.path.join(root, new), os.path.join(root, renamed))
        self.assertEqual(self.restore_ok(self.output("latest.db"), self.url), self.SECOND_ROWS,
                         "the restore took the older generation")
        self.assertEqual(self.restore_ok(self.output("now.db"), self.url, "--timestamp", rfc3339(time.time())),
                         self.SECOND_ROWS)


class BlockedReplica:
    """Makes a file replica fail every upload (its generations/ folder becomes a plain file)
    until unblock() puts the folder back."""

    def __init__(self, root):
        self.root = root
        self.folder = os.path.join(root, "generations")
        self.away = os.path.join(root, "generations.away")

    def block(self):
        os.rename(self.folder, self.away)
        with open(self.folder, "w") as f:
            f.write("blocked by the test\n")

    def unblock(self):
        os.remove(self.folder)
        os.rename(self.away, self.folder)


class OutageTest(FileReplicaTestCase):
    def test_sync_mode_with_one_replica_failing(self):
        second_dir = os.path.join(self.workdir, "second")
        second = file_url(second_dir)
        server = self.serve("--replica", second, "--replica-sync", "--replica-sync-timeout", "1s")
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        self.assertTrue(wait_caught_up(http))
        blocked = BlockedReplica(second_dir)
        acked, failed = set(), set()
        for cycle in range(3):
            row = cycle * 10
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row + 1])
            acked.add(row + 1)
            blocked.block()
            try:
                began = time.monotonic()
                self.assert_error(http.execute("INSERT INTO load VALUES (?, 0, 0)", [row + 2]),
                                  503, "REPLICA_UNAVAILABLE")
                self.assertGreaterEqual(time.monotonic() - began, 0.9)
                failed.add(row + 2)
                self.assertTrue(wait_until(lambda: http.get("/readyz").status == 503, timeout=10),
                                "/readyz stayed 200 while a sync replica failed")
                self.assertGreater(metric(http, "monolite_replica_errors_total"), 0)
            finally:
                blocked.unblock()
            self.assertTrue(wait_until(lambda: http.get("/readyz").status == 200, timeout=15),
                            f"/readyz did not recover:\n{server.log_tail()}")
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row + 3])
            acked.add(row + 3)
        self.assertTrue(wait_caught_up(http))
        for n, url in enumerate((self.url, second)):
            self.assertEqual(self.restore_ok(self.output(f"r{n}.db"), url), acked | failed, url)

    def test_writes_made_during_an_outage_survive_kill9(self):
        server = self.serve()
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        self.assertTrue(wait_caught_up(http))
        blocked = BlockedReplica(self.replica_dir)
        acked, sent = set(), set()
        for cycle in range(2):
            checkpoints = server_metric(http, "monolite_writer_checkpoints_total")
            blocked.block()
            load = TimedLoad(server.port, 2, first_writer=cycle * 10, pause=0.002).start()
            # Until a checkpoint has run past the gate's bound (the replica cannot answer): the
            # WAL may restart, and the frames before it live only in the replicator's memory.
            past_the_gate = wait_until(lambda: load.acked_count() > 50 and server_metric(
                http, "monolite_writer_checkpoints_total") > checkpoints, timeout=30, interval=0.1)
            server.kill9()
            load.stop()
            self.assertTrue(past_the_gate, "no checkpoint while the replica was blocked")
            self.assertEqual(load.other_statuses, [])
            self.assertGreater(load.acked_count(), 50)
            acked |= load.acked()
            # A request in flight at the kill may have committed without its answer: it may be there.
            sent |= load.sent
            blocked.unblock()

            server = self.serve()
            http = self.client(server)
            self.assertTrue(wait_caught_up(http, new_generation=False))
            self.assertTrue(wait_until(lambda: self.restore_count() >= len(acked), timeout=20))
            ids = self.restore_ok(self.output(f"r{cycle}.db"), self.url)
            self.assert_restored_load(ids, acked, sent)

    def restore_count(self):
        path = self.output(f"probe-{time.monotonic_ns()}.db")
        done = restore(path, self.url)
        if done.returncode != 0:
            return -1
        return sum(1 for i in db_file_load_ids(path) if i > 0)


class RetentionTest(FileReplicaTestCase):
    RETENTION_S = 3.0

    def layout(self):
        return parse_layout(file_replica_keys(self.replica_dir))

    def test_old_objects_go_but_the_oldest_retained_point_restores_exactly(self):
        server = self.serve("--snapshot-interval", "700ms", "--retention", "3s", "--retention-check", "500ms")
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        writer = SequentialWriter(server.port, pause=0.05).start()
        self.assertTrue(wait_until(lambda: all(self.layout()[:2]), timeout=10), "nothing replicated in 10 s")
        first_snapshots, first_segments, _ = self.layout()

        def first_objects_gone():
            snapshots, segments, _ = self.layout()
            keys = {s.key for s in snapshots + segments}
            return first_snapshots[0].key not in keys and first_segments[0].key not in keys

        self.assertTrue(wait_until(first_objects_gone, timeout=self.RETENTION_S + 15),
                        "retention kept the first snapshot or WAL segment")
        writer.stop()
        self.assertEqual(writer.failures, [])
        self.assertTrue(wait_caught_up(http))
        deleted = metric(http, "monolite_replica_deleted_total")
        self.assertEqual(server.stop(), 0)
        stopped = time.time()

        self.assertGreater(deleted, 0, "retention deleted nothing")
        snapshots, segments, _ = parse_layout(file_replica_keys(self.replica_dir))
        keys = {s.key for s in snapshots + segments}
        self.assertNotIn(first_snapshots[0].key, keys, "the first snapshot outlived the retention")
        self.assertNotIn(first_segments[0].key, keys, "the first WAL segment outlived the retention")
        oldest = min(s.time_s for s in snapshots)
        # the newest snapshot at or before the cutoff is kept; none much older than the window
        self.assertLess(stopped - oldest, self.RETENTION_S + 0.7 + 1.5)
        self.assertGreaterEqual(stopped - oldest, self.RETENTION_S - 1.0)

        point = writer.quiet_point_after(max(oldest, stopped - self.RETENTION_S) + 0.05)
        self.assertIsNotNone(point)
        mark, expected = point
        ids = self.restore_ok(self.output("oldest.db"), self.url, "--timestamp", rfc3339(mark))
        self.assertEqual(ids, expected)
        latest = self.restore_ok(self.output("latest.db"), self.url)
        self.assertEqual(latest, {r[0] for r in writer.rows})
        done = self.assert_restore_fails(self.output("expired.db"), self.url,
                                         "--timestamp", rfc3339(oldest - 1.0))
        self.assertIn("no snapshot at or before", done.stderr)


class MetricsTextTest(ReplicationTestCase):
    def test_label_values_are_escaped(self):
        workdir = self.make_tempdir()
        # --replica is a whitespace-separated list: a newline cannot get in (the unit test has it)
        replica_dir = os.path.join(workdir, 'odd"quoted"back\\slash\\"')
        server = self.start_replicated(os.path.join(workdir, "app.db"), file_url(replica_dir))
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        self.execute_ok(http, "INSERT INTO load VALUES (1, 0, 0)")
        resp = http.get("/metrics")
        self.assertEqual(resp.status, 200, resp.raw[:300])
        samples = parse_prometheus_strict(resp.raw.decode())
        replicas = {labels["replica"] for _, labels, _ in samples if "replica" in labels}
        self.assertEqual(replicas, {file_url(replica_dir)})
        names = {name for name, _, _ in samples}
        for name in ("monolite_replica_lag_frames", "monolite_replica_ship_delay_seconds_bucket",
                     "monolite_http_requests_total", "monolite_writer_commits_total"):
            self.assertIn(name, names)
        buckets = [labels for name, labels, _ in samples if name == "monolite_replica_ship_delay_seconds_bucket"]
        self.assertEqual(buckets[-1].get("le"), "+Inf")


if __name__ == "__main__":
    unittest.main()
