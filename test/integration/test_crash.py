"""Acknowledged writes survive kill -9; the database stays consistent."""

import http.client as http_client
import os
import random
import time
import unittest

from harness import (LOAD_SCHEMA, Background, ServerTestCase, WriteLoad, db_file_integrity,
                     db_file_load_ids, read_load_ids, unpaired_ids, wait_until)

CYCLES = 5
WRITERS = 4
MIN_ACKED_BEFORE_KILL = 1000
WRITER_NUMBERS_PER_CYCLE = 10
SLOW_INSERT_LAST_ID = 3_000_000
SLOW_INSERT = ("INSERT INTO load(id, writer, seq) WITH RECURSIVE c(x) AS "
               f"(SELECT 2 UNION ALL SELECT x + 1 FROM c WHERE x < {SLOW_INSERT_LAST_ID}) "
               "SELECT x, 1, x FROM c")
# A 1 MB page cache makes the large transaction spill its pages into the WAL as it goes, so that
# the WAL file growing while the request is unanswered shows the transaction under way.
SMALL_CACHE = ("--cache-size", "-1000")
SPILLED_BYTES = 512 * 1024


class KillNineTest(ServerTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = os.path.join(self.workdir, "app.db")

    def start(self):
        return self.start_server(db_path=self.db_path, workdir=self.workdir)

    def assert_recovered(self, ids, acked):
        self.assertEqual(acked - ids, set(), "acknowledged writes lost")
        self.assertEqual(unpaired_ids(ids), set(), "a two-statement request was half applied")

    def write_then_kill(self, server, cycle):
        load = WriteLoad(server.port, WRITERS, pairs=True,
                         first_writer=cycle * WRITER_NUMBERS_PER_CYCLE).start()
        reached = wait_until(lambda: load.acked_count() >= MIN_ACKED_BEFORE_KILL, timeout=30)
        time.sleep(random.uniform(0.0, 0.3))
        server.kill9()
        load.stop()
        load.join(timeout=30)
        self.assertTrue(reached, f"only {load.acked_count()} writes acknowledged in 30 s")
        self.assertEqual([s for s in load.statuses() if s != (200, None)], [])
        return load.acked()

    def test_acknowledged_writes_survive_repeated_kill9(self):
        acked = set()
        for cycle in range(CYCLES):
            server = self.start()
            http = self.client(server)
            self.execute_ok(http, LOAD_SCHEMA)
            self.assert_recovered(read_load_ids(http), acked)
            acked |= self.write_then_kill(server, cycle)

        server = self.start()
        self.assert_recovered(read_load_ids(self.client(server)), acked)
        self.assertEqual(self.query_value(self.client(server), "PRAGMA integrity_check"), "ok")
        server.kill9()

        self.assertEqual(db_file_integrity(self.db_path), ["ok"])
        ids = db_file_load_ids(self.db_path)
        self.assert_recovered(ids, acked)

    def test_kill9_during_a_large_transaction_is_all_or_nothing(self):
        server = self.start_server(*SMALL_CACHE, db_path=self.db_path, workdir=self.workdir)
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        self.execute_ok(http, "INSERT INTO load VALUES (1, 0, 0)")
        wal = self.db_path + "-wal"
        before = os.path.getsize(wal)
        request = Background(lambda: http.execute(SLOW_INSERT))
        inside = wait_until(lambda: request.finished_at is None and os.path.getsize(wal) >= before + SPILLED_BYTES,
                            timeout=30, interval=0.005)
        server.kill9()
        self.assertTrue(inside, f"the transaction never showed in the WAL ({os.path.getsize(wal)} bytes) "
                                f"before its answer (finished: {request.finished_at is not None})")
        try:
            status = request.wait(30).status
        except (OSError, http_client.HTTPException):
            status = None  # the connection died with the server
        self.assertIsNone(status, "the kill landed after the transaction was answered")

        self.assertEqual(db_file_integrity(self.db_path), ["ok"])
        self.assertEqual(db_file_load_ids(self.db_path), {1}, "the killed transaction was partly applied")


if __name__ == "__main__":
    unittest.main()
