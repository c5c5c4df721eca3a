"""serve --statement-log FILE: each distinct statement shape (values as ?) with its count.

The file is JSON lines {"sql", "count", "first_seen", "last_seen"}, written every 10 s and at
shutdown, merged with what it held at start; past --statement-log-limit new shapes are dropped
and counted in monolite_statement_log_dropped_total.
"""

import json
import os
import time
import unittest

from harness import ServerTestCase, free_port, run_cli, wait_until

PIPELINE = "/v2/pipeline"


def hrana_stmt(sql):
    return {"sql": sql, "args": []}


def read_log(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# What one round of traffic() leaves in the log.
EXPECTED = {
    "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, name TEXT)": 1,
    "INSERT OR REPLACE INTO t VALUES(?, ?)": 4,  # 3 × /sql/execute with other values, 1 × Hrana execute
    "SELECT name FROM t WHERE id = ?": 4,  # 2 × /sql/query, Hrana batch, Hrana sequence
    "SELECT count(*) FROM t WHERE name = :name": 1,  # /sql/batch
    "UPDATE t SET name = upper(name)": 2,  # Hrana batch, then Hrana sequence
}


class StatementLogTest(ServerTestCase):
    def start_logging(self, path, *extra, workdir=None):
        return self.start_server("--statement-log", path, *extra, workdir=workdir)

    def traffic(self, server):
        http = self.client(server)
        self.assert_ok(http.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, name TEXT)"))
        for i in range(3):
            self.assert_ok(http.execute(f"INSERT OR REPLACE INTO t VALUES({i + 10}, 'name {i}')  -- row {i}"))
        for i in (12, 13):  # 0 and 1 stay as written in a shape: other numbers
            self.assert_ok(http.query(f"SELECT name FROM t WHERE id = {i}"))
        self.assert_ok(http.batch([{"sql": "SELECT   count(*)\n FROM t WHERE name = :name",
                                    "params": {":name": "x"}}]))
        body = self.assert_ok(http.post_json(PIPELINE, {"baton": None, "requests": [
            {"type": "execute", "stmt": hrana_stmt("INSERT OR REPLACE INTO t VALUES(9, 'nine')")},
            {"type": "batch", "batch": {"steps": [{"stmt": hrana_stmt("SELECT name FROM t WHERE id = 9")},
                                                  {"stmt": hrana_stmt("UPDATE t SET name = upper(name)")}]}},
            {"type": "sequence", "sql": "SELECT name FROM t WHERE id = 3; UPDATE t SET name = upper(name);"},
            {"type": "close"}]}))
        for result in body["results"]:
            self.assertEqual(result["type"], "ok", result)

    def stop(self, server):
        self.assertEqual(server.stop(), 0, server.log_tail())

    def counts(self, path):
        return {entry["sql"]: entry["count"] for entry in read_log(path)}

    def test_the_file_holds_each_shape_with_its_count_and_restarts_add_up(self):
        workdir = self.make_tempdir()
        path = os.path.join(workdir, "statements.jsonl")
        before = int(time.time())
        server = self.start_logging(path, workdir=workdir)
        self.traffic(server)
        self.stop(server)
        entries = read_log(path)
        self.assertEqual(self.counts(path), EXPECTED)
        self.assertEqual([e["sql"] for e in entries], sorted(e["sql"] for e in entries))
        for e in entries:
            self.assertEqual(set(e), {"sql", "count", "first_seen", "last_seen"})
            self.assertLessEqual(before, e["first_seen"])
            self.assertLessEqual(e["first_seen"], e["last_seen"])
            self.assertLessEqual(e["last_seen"], int(time.time()))
        first_seen = {e["sql"]: e["first_seen"] for e in entries}

        server = self.start_logging(path, workdir=workdir)
        self.traffic(server)
        self.stop(server)
        self.assertEqual(self.counts(path), {sql: 2 * n for sql, n in EXPECTED.items()})
        self.assertEqual({e["sql"]: e["first_seen"] for e in read_log(path)}, first_seen)
        self.assertFalse(os.path.exists(path + ".tmp"))

    def test_the_file_is_saved_while_serving(self):
        workdir = self.make_tempdir()
        path = os.path.join(workdir, "statements.jsonl")
        server = self.start_logging(path, workdir=workdir)
        self.assert_ok(self.client(server).query("SELECT 42"))
        # Saved every 10 s: the shape shows up without a shutdown.
        saved = wait_until(lambda: os.path.exists(path) and self.counts(path) == {"SELECT ?": 1}, 25)
        self.assertTrue(saved, "not saved within 25 s")
        self.assertTrue(server.running())

    def test_past_the_limit_new_shapes_are_dropped_and_counted(self):
        workdir = self.make_tempdir()
        path = os.path.join(workdir, "statements.jsonl")
        server = self.start_logging(path, "--statement-log-limit", "2", workdir=workdir)
        http = self.client(server)
        for sql in ("SELECT 5", "SELECT 2 + 2", "SELECT 'a'", "SELECT abs(-3)", "SELECT 5, 2", "SELECT 7"):
            self.assert_ok(http.query(sql))
        metrics = http.get("/metrics").raw.decode()
        self.assertIn("monolite_statement_log_dropped_total 2\n", metrics)
        self.stop(server)
        self.assertEqual(self.counts(path), {"SELECT ?": 3, "SELECT ? + ?": 1})

    def test_an_unwritable_path_stops_the_start_with_a_clear_error(self):
        workdir = self.make_tempdir()
        path = os.path.join(workdir, "no-such-folder", "statements.jsonl")
        result = run_cli(["serve", "--db", os.path.join(workdir, "app.db"), "--listen", f"127.0.0.1:{free_port()}",
                          "--statement-log", path])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("--statement-log", result.stderr)
        self.assertIn("no-such-folder", result.stderr)

    def test_a_file_that_is_not_a_statement_log_is_refused_and_kept(self):
        workdir = self.make_tempdir()
        path = os.path.join(workdir, "notes.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("my notes\n")
        result = run_cli(["serve", "--db", os.path.join(workdir, "app.db"), "--listen", f"127.0.0.1:{free_port()}",
                          "--statement-log", path])
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("line 1", result.stderr)
        with open(path, encoding="utf-8") as f:
            self.assertEqual(f.read(), "my notes\n")


if __name__ == "__main__":
    unittest.main()
