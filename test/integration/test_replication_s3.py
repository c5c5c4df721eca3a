"""Replication to S3 (moto_server with signature checks): kill -9, injected faults, wrong
credentials, and the object layout as another S3 client sees it."""

import os
import random
import re
import subprocess
import time
import unittest

from harness import LOAD_SCHEMA, run_cli, wait_until
from moto import MotoServer
from replica_harness import (SEGMENT_KEY_RE, SNAPSHOT_KEY_RE, FaultProxy, ReplicationTestCase, TimedLoad,
                             error_records, generations, metric, parse_layout, replica_metrics,
                             wait_caught_up)

WRITERS = 4
ACK_GRACE_S = 1.0


class S3TestCase(ReplicationTestCase):
    """A replicated server against one S3 server for the class (moto unless SERVER says otherwise)."""

    SERVER = MotoServer

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.s3 = cls.SERVER()
        cls.s3.start()
        cls.addClassCleanup(cls.s3.stop)

    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = os.path.join(self.workdir, "app.db")
        self.prefix = f"{self.id().rsplit('.', 1)[-1]}-{random.getrandbits(32):08x}"
        self.url = self.s3.url(self.prefix, force_path_style="true")
        self.env = self.s3.env()

    def via(self, proxy, **params):
        """The replica URL with the endpoint replaced by the proxy's."""
        url = self.s3.url(self.prefix, force_path_style="true", **params)
        return url.replace(f"127.0.0.1%3A{self.s3.port}", f"127.0.0.1%3A{proxy.port}")

    def serve(self, *extra, url=None, env=None):
        return self.start_replicated(self.db_path, url or self.url, *extra, workdir=self.workdir,
                                     env=env or self.env)

    def keys(self):
        return [k[len(self.prefix) + 1:] for k in self.s3.keys(self.prefix + "/")]

    def proxy(self):
        proxy = FaultProxy(self.s3.port)
        self.addCleanup(proxy.stop)
        return proxy


class S3DrillTest(S3TestCase):
    def test_kill9_under_load(self):
        must_have, sent = set(), set()
        for cycle in range(2):
            server = self.serve()
            http = self.client(server)
            self.execute_ok(http, LOAD_SCHEMA)
            load = TimedLoad(server.port, WRITERS, first_writer=cycle * 10).start()
            started = time.monotonic()
            wait_until(lambda: load.acked_count() >= 300 and time.monotonic() - started >= 2.0, timeout=30)
            time.sleep(random.uniform(0.0, 0.4))
            killed_at = time.monotonic()
            server.kill9()
            load.stop()
            self.assertEqual(load.other_statuses, [])
            self.assertGreaterEqual(load.acked_count(), 300)
            must_have |= load.acked_before(killed_at - ACK_GRACE_S)
            sent |= load.sent
            ids = self.restore_ok(os.path.join(self.workdir, f"r{cycle}.db"), self.url, env=self.env)
            self.assert_restored_load(ids, must_have, sent)

    def test_layout_seen_by_the_aws_cli(self):
        server = self.serve()
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        for row in range(1, 40):
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row])
        self.assertTrue(wait_caught_up(http))
        done = subprocess.run(["aws", "--endpoint-url", self.s3.endpoint, "s3", "ls", "--recursive",
                               f"s3://{self.s3.bucket}/{self.prefix}/"],
                              env=self.s3.cli_env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        listed = [line.split()[-1] for line in done.stdout.splitlines() if line.strip()]
        keys = [k[len(self.prefix) + 1:] for k in listed]
        self.assertTrue(keys)
        for key in keys:
            self.assertTrue(SNAPSHOT_KEY_RE.match(key) or SEGMENT_KEY_RE.match(key), key)
        snapshots, segments, _ = parse_layout(keys)
        self.assertEqual(len({s.generation for s in snapshots + segments}), 1)
        self.assertEqual(len(snapshots), 1)
        self.assertGreaterEqual(len(segments), 1)
        self.assertEqual(sorted(keys), self.keys())
        # POST /admin/snapshot adds a snapshot
        self.assertEqual(http.request("POST", "/admin/snapshot").status, 202)
        self.assertTrue(wait_until(lambda: len(parse_layout(self.keys())[0]) == 2, timeout=20))
        self.assertEqual(metric(http, "monolite_replica_snapshots_total"), 2)
        done, gens = generations(self.url, env=self.env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(gens, [snapshots[0].generation])
        done = self.run_snapshots()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(len(re.findall(snapshots[0].generation, done.stdout)), 2, done.stdout)
        self.assertEqual(self.restore_ok(os.path.join(self.workdir, "r.db"), self.url, env=self.env),
                         set(range(1, 40)))

    def run_snapshots(self):
        return run_cli(["snapshots", "--replica", self.url], env=self.env, timeout=60)

    def test_wrong_secret_fails_loudly(self):
        wrong = self.s3.env(secret="not-the-secret")
        server = self.serve(env=wrong)
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        self.execute_ok(http, "INSERT INTO load VALUES (1, 0, 0)")
        logged = wait_until(lambda: error_records(server, "SignatureDoesNotMatch"), timeout=20)
        self.assertTrue(logged, f"no error line names SignatureDoesNotMatch:\n{server.log_tail()}")
        self.assertGreater(metric(http, "monolite_replica_errors_total"), 0)
        self.assertEqual(metric(http, "monolite_replica_objects_total"), 0)
        self.assertEqual(self.keys(), [], "objects landed with a wrong secret")

        done, gens = generations(self.url, env=wrong)
        self.assertEqual(done.returncode, 1, done.stdout)
        self.assertIn("SignatureDoesNotMatch", done.stderr)
        self.assertEqual(gens, [])
        done = self.assert_restore_fails(os.path.join(self.workdir, "r.db"), self.url, env=wrong)
        self.assertIn("SignatureDoesNotMatch", done.stderr)
        done, _ = generations(self.url, env=self.env)
        self.assertEqual(done.returncode, 0, done.stderr)


class S3FaultTest(S3TestCase):
    def test_async_writes_flow_through_faults_and_the_replica_catches_up(self):
        proxy = self.proxy()
        url = self.via(proxy, timeout_ms="1500")
        server = self.serve(url=url)
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        self.assertTrue(wait_caught_up(http))
        load = TimedLoad(server.port, 2, pause=0.01).start()
        try:
            for mode in ("error", "reset", "stall", "pass", "error"):
                proxy.set_mode(mode)
                before = load.acked_count()
                # the uploader backs off after failures (up to 5 s): wait until the fault was met
                self.assertTrue(wait_until(lambda: proxy.count(mode) >= 2, timeout=15),
                                f"no upload met the {mode} fault")
                time.sleep(0.5)
                self.assertGreater(load.acked_count(), before + 10, f"writes stalled while the store was {mode}")
            proxy.set_mode("pass")
            time.sleep(0.5)
        finally:
            proxy.set_mode("pass")
            load.stop()
        self.assertEqual(load.other_statuses, [], "a write failed in async mode")
        self.assertEqual(load.transport_errors, [])
        for mode in ("error", "reset", "stall"):
            self.assertGreater(proxy.count(mode), 0, f"no request met the {mode} fault")
        self.assertGreater(metric(http, "monolite_replica_errors_total"), 0)
        self.assertTrue(wait_caught_up(http, timeout=30), f"the replica did not catch up:\n{server.log_tail()}")
        m = replica_metrics(http)
        self.assertEqual(sum(m["monolite_replica_lag_seconds"].values()), 0)
        self.assertGreater(sum(m["monolite_replica_last_success_seconds"].values()), time.time() - 30)
        ids = self.restore_ok(os.path.join(self.workdir, "r.db"), self.url, env=self.env)
        self.assertEqual({i for i in ids if i > 0}, load.acked())
        self.assertEqual(self.client(server).get("/readyz").status, 200)

    def test_sync_mode_fails_writes_while_the_store_is_away(self):
        proxy = self.proxy()
        url = self.via(proxy, timeout_ms="1000", connect_timeout_ms="1000")
        server = self.serve("--replica-sync", "--replica-sync-timeout", "1s", url=url)
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        acked, failed = set(), set()
        row = 0
        for cycle, mode in enumerate(("stall", "down", "error")):
            row += 1
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row])
            acked.add(row)
            self.assertEqual(http.get("/readyz").status, 200)

            proxy.set_mode(mode)
            row += 1
            began = time.monotonic()
            resp = http.execute("INSERT INTO load VALUES (?, 0, 0)", [row])
            took = time.monotonic() - began
            self.assert_error(resp, 503, "REPLICA_UNAVAILABLE")
            self.assertGreaterEqual(took, 0.9)
            self.assertLess(took, 5.0)
            failed.add(row)
            self.assertTrue(wait_until(lambda: http.get("/readyz").status == 503, timeout=10),
                            f"/readyz stayed 200 with the store {mode}")

            proxy.set_mode("pass")
            self.assertTrue(wait_until(lambda: http.get("/readyz").status == 200, timeout=15),
                            f"/readyz did not recover after {mode}:\n{server.log_tail()}")
            row += 1
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, 0)", [row])
            acked.add(row)

        ids = self.restore_ok(os.path.join(self.workdir, "r.db"), self.url, env=self.env)
        self.assertEqual(acked - ids, set())
        # a 503 write was committed locally and is shipped once the store is back
        self.assertEqual(ids, acked | failed)
        self.assertGreaterEqual(metric(http, "monolite_replica_errors_total"), 3)


if __name__ == "__main__":
    unittest.main()
