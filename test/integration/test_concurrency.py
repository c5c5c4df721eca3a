"""Many concurrent clients: no lost writes, no SQLITE_BUSY, bounded writer mailbox."""

import threading
import time
import unittest

from harness import (LOAD_SCHEMA, Client, ServerTestCase, WriteLoad, read_load_ids,
                     run_in_threads)

WRITERS = 32
INSERTS_PER_WRITER = 150
READERS = 4

OVERLOAD_THREADS = 20
BULK_ROWS = 200_000
BULK_INSERT = ("INSERT INTO bulk(tag, n) WITH RECURSIVE c(x) AS "
               "(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT ?, x FROM c")


class CountPoller:
    """Reader threads that repeatedly count `load` rows until stopped."""

    def __init__(self, port, readers, duration_s=120.0):
        self.port = port
        self.duration_s = duration_s
        self.stop_event = threading.Event()
        self.counts = [[] for _ in range(readers)]
        self.bad = []  # (status, body) of every non-200 answer
        self.threads = [threading.Thread(target=self._run, args=(r,), daemon=True)
                        for r in range(readers)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop_and_join(self, timeout=30.0):
        self.stop_event.set()
        for thread in self.threads:
            thread.join(timeout)
        if any(thread.is_alive() for thread in self.threads):
            raise AssertionError("reader threads still running")

    def _run(self, reader):
        client = Client(self.port)
        deadline = time.monotonic() + self.duration_s
        try:
            while not self.stop_event.is_set() and time.monotonic() < deadline:
                resp = client.query("SELECT count(*) FROM load")
                if resp.status != 200:
                    self.bad.append((resp.status, resp.raw[:300]))
                    continue
                self.counts[reader].append(resp.body["rows"][0][0])
        finally:
            client.close()


class ConcurrentWritesTest(ServerTestCase):
    def test_32_clients_times_150_inserts_with_concurrent_readers(self):
        server = self.start_server()
        self.execute_ok(self.client(server), LOAD_SCHEMA)
        readers = CountPoller(server.port, READERS).start()
        load = WriteLoad(server.port, WRITERS, per_writer=INSERTS_PER_WRITER).start()
        try:
            load.join()
        finally:
            readers.stop_and_join()

        self.assertEqual(load.failures(), [])
        statuses = load.statuses()
        self.assertEqual(len(statuses), WRITERS * INSERTS_PER_WRITER)
        self.assertEqual([s for s in statuses if s != (200, None)], [])
        self.assertEqual(len(load.acked()), WRITERS * INSERTS_PER_WRITER)
        self.assertEqual(read_load_ids(self.client(server)), load.acked())

        self.assertEqual(readers.bad, [])
        for counts in readers.counts:
            self.assertTrue(counts, "a reader never got an answer")
            self.assertEqual(counts, sorted(counts), "a reader saw the row count go down")
        self.assertNotIn("SQLITE_BUSY", server.log_text())


class WriterMailboxTest(ServerTestCase):
    def test_full_mailbox_answers_503_and_never_half_writes(self):
        server = self.start_server("--writer-queue", "1")
        self.execute_ok(self.client(server), "CREATE TABLE bulk(tag INTEGER, n INTEGER)")

        def bulk_insert(tag):
            client = Client(server.port)
            try:
                return client.execute(BULK_INSERT, [BULK_ROWS, tag])
            finally:
                client.close()

        responses = run_in_threads(OVERLOAD_THREADS, bulk_insert)
        statuses = [resp.status for resp in responses]
        self.assertTrue(set(statuses) <= {200, 503}, statuses)
        self.assertIn(200, statuses)
        self.assertIn(503, statuses)
        for resp in responses:
            if resp.status == 503:
                self.assert_error(resp, 503, "OVERLOADED")
                self.assertRegex(resp.header("retry-after") or "", r"^\d+$")

        http = self.client(server)
        rows = self.query_rows(http, "SELECT tag, count(*) FROM bulk GROUP BY tag")
        written = dict(rows)
        expected = {tag: BULK_ROWS for tag, status in enumerate(statuses) if status == 200}
        self.assertEqual(written, expected)
        self.execute_ok(http, "INSERT INTO bulk(tag, n) VALUES (-1, -1)")
        self.assertEqual(self.assert_ok(http.get("/healthz")), {"status": "ok"})


if __name__ == "__main__":
    unittest.main()
