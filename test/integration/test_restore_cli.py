"""The restore command's edges, serve --restore-if-missing, and monolite verify."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import (LOAD_SCHEMA, Client, Server, binary_path, child_env, db_file_load_ids, free_port, launch_server,
                     serve_args, wait_until)
from replica_harness import (FAST, ReplicationTestCase, TimedLoad, error_records, file_replica_keys,
                             file_url, parse_layout, restore, rfc3339, run_cli, wait_caught_up)

BURSTS = 8
ROWS_PER_BURST = 12


def populate_replica(workdir):
    """Runs a replicated server that writes BURSTS bursts of rows (quiet gaps between them, so
    each burst lands in WAL segments of its own), then stops it. Returns (replica dir, bursts)
    with bursts = [(ids, first send time, last ack time)]."""
    db_path = os.path.join(workdir, "source.db")
    replica = os.path.join(workdir, "replica")
    server = launch_server(workdir, ["--replica", file_url(replica), *FAST], db_path)
    bursts = []
    client = Client(server.port)
    try:
        assert client.execute(LOAD_SCHEMA).status == 200
        time.sleep(0.3)
        for b in range(BURSTS):
            ids = list(range(b * 100 + 1, b * 100 + 1 + ROWS_PER_BURST))
            began = time.time()
            for row in ids:
                resp = client.execute("INSERT INTO load VALUES (?, 0, 0)", [row])
                assert resp.status == 200, resp.raw
            bursts.append((set(ids), began, time.time()))
            time.sleep(0.35)
        assert wait_caught_up(client), "the replica did not catch up"
    finally:
        client.close()
        code = server.stop()
    assert code == 0, server.log_tail()
    return replica, bursts


class RestoreEdgesTest(ReplicationTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._tmp = tempfile.TemporaryDirectory(prefix="monolite-it-")
        cls.addClassCleanup(cls._tmp.cleanup)
        cls.source, cls.bursts = populate_replica(cls._tmp.name)
        cls.all_ids = set().union(*(ids for ids, _, _ in cls.bursts))

    def setUp(self):
        self.workdir = self.make_tempdir()
        self.replica = os.path.join(self.workdir, "replica")
        shutil.copytree(self.source, self.replica)
        self.url = file_url(self.replica)

    def out(self, name):
        return os.path.join(self.workdir, name)

    def layout(self):
        snapshots, segments, others = parse_layout(file_replica_keys(self.replica))
        self.assertEqual(others, [])
        self.assertEqual(len(snapshots), 1)
        after = [s for s in segments if (s.index, s.last_frame) > (snapshots[0].index, snapshots[0].frame)]
        return snapshots[0], after

    def test_restores_everything_whatever_the_parallelism(self):
        for parallelism in ("1", "3", "16"):
            ids = self.restore_ok(self.out(f"p{parallelism}.db"), self.url, "--parallelism", parallelism)
            self.assertEqual(ids, self.all_ids)

    def test_existing_output_is_never_overwritten(self):
        target = self.out("precious.db")
        with open(target, "wb") as f:
            f.write(b"not a database, but mine")
        done = restore(target, self.url)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn("exists", done.stderr)
        done = restore(target, self.url, "--if-db-not-exists")
        self.assertEqual(done.returncode, 0, done.stderr)
        with open(target, "rb") as f:
            self.assertEqual(f.read(), b"not a database, but mine")
        self.assertEqual(sorted(os.listdir(self.workdir)), ["precious.db", "replica"])

    def test_empty_replica(self):
        empty = os.path.join(self.workdir, "empty")
        os.mkdir(empty)
        for url in (file_url(empty), file_url(os.path.join(self.workdir, "absent"))):
            target = self.out("x.db")
            done = self.assert_restore_fails(target, url)
            self.assertIn("no generation", done.stderr)
            done = restore(target, url, "--if-replica-exists")
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertFalse(os.path.exists(target))

    def test_bad_replica_urls(self):
        for url in ("ftp://example.com/x", "file://relative/path", "s3://",
                    "s3://bucket/p?endpoint=gopher://h", "s3://bucket/p?nonsense=1", ""):
            target = self.out("x.db")
            done = restore(target, url, env={"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})
            self.assertIn(done.returncode, (1, 2), f"{url!r}: {done.stderr}")
            self.assertTrue(done.stderr.strip(), f"{url!r}: no message")
            self.assertIn("replica", done.stderr.lower(), f"{url!r}: {done.stderr}")
            self.assertFalse(os.path.exists(target))
        done = run_cli(["restore", "--replica", self.url])
        self.assertEqual(done.returncode, 2, done.stderr)
        self.assertIn("-o", done.stderr)

    def test_dry_run_prints_the_plan_and_writes_nothing(self):
        snapshot, segments = self.layout()
        plain = run_cli(["restore", "--replica", self.url, "--dry-run"])
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertIn(snapshot.key.rsplit("/", 1)[-1], plain.stdout)
        self.assertIn(f"segments   {len(segments)} ", plain.stdout)
        listed = run_cli(["restore", "-o", self.out("never.db"), "--replica", self.url, "--dry-run", "--json"])
        self.assertEqual(listed.returncode, 0, listed.stderr)
        plan = json.loads(listed.stdout)
        self.assertEqual(plan["outcome"], "planned")
        self.assertEqual(plan["segments"]["count"], len(segments))
        sizes = {k: os.path.getsize(os.path.join(self.replica, k)) for k in file_replica_keys(self.replica)}
        self.assertEqual(plan["download_bytes"], sum(sizes[s.key] for s in [snapshot, *segments]))
        self.assertFalse(os.path.exists(self.out("never.db")))
        self.assertEqual([n for n in os.listdir(self.workdir) if n != "replica"], [])

    def test_json_report_of_a_restore(self):
        done = run_cli(["restore", "-o", self.out("j.db"), "--replica", self.url, "--json"])
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads(done.stdout)
        self.assertEqual(report["outcome"], "restored")
        self.assertEqual(report["restored"]["database_bytes"], os.path.getsize(self.out("j.db")))
        self.assertEqual(db_file_load_ids(self.out("j.db")), self.all_ids)
        exists = run_cli(["restore", "-o", self.out("j.db"), "--replica", self.url, "--json", "--if-db-not-exists"])
        self.assertEqual(json.loads(exists.stdout)["outcome"], "output_exists")

    def test_bad_parallelism_is_a_usage_error(self):
        for value in ("abc", "0", "-3"):
            done = restore(self.out("x.db"), self.url, "--parallelism", value)
            self.assertEqual(done.returncode, 2, f"--parallelism {value}: {done.returncode} {done.stderr}")
            self.assertIn("--parallelism", done.stderr)
            self.assertFalse(os.path.exists(self.out("x.db")))

    def test_unreachable_replica_is_an_error_even_with_if_replica_exists(self):
        url = f"s3://bucket/p?endpoint=http://127.0.0.1:{free_port()}&region=us-east-1&connect_timeout_ms=2000"
        env = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
        for extra in ((), ("--if-replica-exists",)):
            done = self.assert_restore_fails(self.out("x.db"), url, "--retry-timeout", "3s", *extra, env=env)
            self.assertIn("cannot reach", done.stderr)

    def test_missing_middle_segment_is_a_gap(self):
        snapshot, segments = self.layout()
        same_index = [s for a, s, b in zip(segments, segments[1:], segments[2:])
                      if a.index == s.index == b.index]
        self.assertTrue(same_index, f"too few WAL segments: {[s.key for s in segments]}")
        victim = same_index[len(same_index) // 2]
        os.remove(os.path.join(self.replica, victim.key))

        done = self.assert_restore_fails(self.out("gap.db"), self.url)
        self.assertIn("missing", done.stderr)
        self.assertIn(f"index {victim.index} frame {victim.first_frame - 1}", done.stderr)

        # everything before the gap is still restorable, exactly
        mark = victim.first_time_s - 0.1
        straddling = [b for b in self.bursts if b[1] < mark < b[2]]
        self.assertEqual(straddling, [], "the mark is not in a quiet gap")
        expected = set().union(*(ids for ids, _, end in self.bursts if end < mark))
        self.assertEqual(self.restore_ok(self.out("before-gap.db"), self.url, "--timestamp", rfc3339(mark)),
                         expected)

    def test_corrupt_segment_names_the_object(self):
        _, segments = self.layout()
        victim = segments[len(segments) // 2]
        path = os.path.join(self.replica, victim.key)
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            for at in range(len(data) // 2, min(len(data), len(data) // 2 + 16)):
                data[at] ^= 0x5A
            f.seek(0)
            f.write(data)
        done = self.assert_restore_fails(self.out("corrupt.db"), self.url)
        self.assertIn(os.path.basename(victim.key), done.stderr)

    def test_truncated_segment_names_the_object(self):
        _, segments = self.layout()
        victim = segments[-1]
        path = os.path.join(self.replica, victim.key)
        os.truncate(path, os.path.getsize(path) // 2)
        done = self.assert_restore_fails(self.out("truncated.db"), self.url)
        self.assertIn(os.path.basename(victim.key), done.stderr)


class RestoreIfMissingTest(ReplicationTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()

    def test_absent_database_is_restored_before_serving(self):
        source, bursts = populate_replica(self.workdir)
        expected = set().union(*(ids for ids, _, _ in bursts))
        db_path = os.path.join(self.workdir, "fresh", "app.db")
        port = free_port()
        server = Server(self.workdir, serve_args(db_path, port, ["--replica", file_url(source), *FAST,
                                                                 "--restore-if-missing"]), port)
        self.start_custom_server(server)
        http = self.client(server)
        ready = wait_until(lambda: http.get("/readyz").status == 200, timeout=30)
        self.assertTrue(ready, server.log_tail())
        self.assertEqual({r[0] for r in self.query_rows(http, "SELECT id FROM load")}, expected)
        messages = [r.get("msg") for r in server.log_records()]
        self.assertIn("restored", messages, server.log_tail())
        self.assertEqual(error_records(server), [])
        # it serves and replicates on: a new write reaches the replica
        self.execute_ok(http, "INSERT INTO load VALUES (99999, 0, 0)")
        self.assertTrue(wait_caught_up(http))
        ids = self.restore_ok(os.path.join(self.workdir, "again.db"), file_url(source))
        self.assertEqual(ids, expected | {99999})

    def test_empty_replica_starts_a_new_database(self):
        replica = os.path.join(self.workdir, "replica")
        server = self.start_server("--replica", file_url(replica), *FAST, "--restore-if-missing",
                                   workdir=self.workdir)
        http = self.client(server)
        self.assertTrue(wait_until(lambda: http.get("/readyz").status == 200, timeout=30))
        self.assertTrue(any("empty" in str(r.get("msg")) for r in server.log_records()), server.log_tail())
        self.assertEqual(self.query_rows(http, "SELECT count(*) FROM sqlite_schema"), [[0]])
        self.execute_ok(http, LOAD_SCHEMA)
        self.execute_ok(http, "INSERT INTO load VALUES (1, 0, 0)")
        self.assertTrue(wait_caught_up(http))
        self.assertEqual(self.restore_ok(os.path.join(self.workdir, "r.db"), file_url(replica)), {1})

    def test_present_database_is_not_restored(self):
        source, _ = populate_replica(self.workdir)
        db_path = os.path.join(self.workdir, "mine.db")
        conn = sqlite3.connect(db_path)
        conn.execute("CREATE TABLE mine(x)")
        conn.commit()
        conn.close()
        other_replica = os.path.join(self.workdir, "other")
        server = self.start_server("--replica", file_url(other_replica), *FAST, "--restore-if-missing",
                                   db_path=db_path, workdir=self.workdir)
        http = self.client(server)
        self.assertEqual(self.query_rows(http, "SELECT name FROM sqlite_schema"), [["mine"]])
        self.assertNotIn("restored", [r.get("msg") for r in server.log_records()])
        self.assertTrue(os.path.isdir(source))

    def test_unreachable_replica_exits_1(self):
        db_path = os.path.join(self.workdir, "app.db")
        closed = free_port()
        url = (f"s3://bucket/prefix?endpoint=http://127.0.0.1:{closed}&region=us-east-1"
               "&force_path_style=true&connect_timeout_ms=2000")
        env = child_env({"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"})
        started = time.monotonic()
        done = subprocess.run([binary_path(), "serve", *serve_args(db_path, free_port(),
                                                                   ["--replica", url, "--restore-if-missing",
                                                                    "--replica-retry-timeout", "3s"])],
                              env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertLess(time.monotonic() - started, 30)
        errors = [line for line in done.stderr.splitlines() if '"level":"error"' in line]
        self.assertTrue(errors, done.stderr)
        self.assertIn(str(closed), "\n".join(errors))
        self.assertFalse(os.path.exists(db_path), "a failed restore left a database behind")


class VerifyTest(ReplicationTestCase):
    def test_verify_ok_under_load_and_mismatch_after_tampering(self):
        workdir = self.make_tempdir()
        db_path = os.path.join(workdir, "app.db")
        url = file_url(os.path.join(workdir, "replica"))
        server = self.start_replicated(db_path, url)
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        load = TimedLoad(server.port, 1, pause=0.02).start()
        try:
            time.sleep(0.5)
            for _ in range(3):
                done = run_cli(["verify", "--replica", url, "--db", db_path, "--wait", "20s"], timeout=60)
                self.assertEqual(done.returncode, 0, f"{done.stdout}\n{done.stderr}")
                self.assertTrue(done.stdout.startswith("ok"), done.stdout)
                time.sleep(0.2)
        finally:
            load.stop()
        self.assertEqual(load.other_statuses, [])
        self.assertGreater(load.acked_count(), 10)

        # another database is not what the replica holds
        other = os.path.join(workdir, "other.db")
        conn = sqlite3.connect(other)
        conn.execute(LOAD_SCHEMA)
        conn.execute("INSERT INTO load VALUES (1, 1, 1)")
        conn.commit()
        conn.close()
        done = run_cli(["verify", "--replica", url, "--db", other, "--wait", "2s"], timeout=60)
        self.assertEqual(done.returncode, 1, done.stdout)

        self.assertTrue(wait_caught_up(http))
        self.assertEqual(server.stop(), 0)
        done = run_cli(["verify", "--replica", url, "--db", db_path, "--wait", "5s"], timeout=60)
        self.assertEqual(done.returncode, 0, f"after a clean stop: {done.stdout}\n{done.stderr}")
        conn = sqlite3.connect(db_path)
        conn.execute("UPDATE load SET seq = seq + 1 WHERE id = (SELECT max(id) FROM load)")
        conn.commit()
        conn.close()
        done = run_cli(["verify", "--replica", url, "--db", db_path, "--wait", "2s"], timeout=60)
        self.assertEqual(done.returncode, 1, f"tampered database verified:\n{done.stdout}\n{done.stderr}")
        self.assertNotIn("ok", done.stdout.split(":")[0])


if __name__ == "__main__":
    unittest.main()
