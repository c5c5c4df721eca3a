"""Every route of the HTTP API and every error status it documents."""

import re
import unittest

from harness import (AUTO_ID, DATA_EXCEPTION, ON_POSTGRES, PRIMARY_KEY_VIOLATION, SharedServerTestCase,
                     expected_last_insert_id, stmt)

KNOWN_ERROR_CODES = {
    "BAD_JSON", "BAD_REQUEST", "BAD_PARAMS", "NOT_FOUND", "METHOD_NOT_ALLOWED",
    "SQLITE_ERROR", "SQLITE_AUTH", "UNSUPPORTED_MEDIA_TYPE", "READONLY",
}


def metric_total(text, name):
    """Sum of every sample of metric `name` in Prometheus text format."""
    total = 0.0
    pattern = re.compile(rf"^{re.escape(name)}(\{{[^}}]*\}})?\s+(\S+)")
    for line in text.splitlines():
        match = pattern.match(line)
        if match:
            total += float(match.group(2))
    return total


class HealthTest(SharedServerTestCase):
    def test_healthz(self):
        self.assertEqual(self.assert_ok(self.http.get("/healthz")), {"status": "ok"})

    def test_readyz(self):
        self.assertEqual(self.assert_ok(self.http.get("/readyz")), {"status": "ready"})

    def test_metrics_format_and_counters(self):
        self.assert_ok(self.http.execute("CREATE TABLE metrics_probe(x integer)"))
        self.assert_ok(self.http.execute("INSERT INTO metrics_probe VALUES (1)"))
        resp = self.http.get("/metrics")
        self.assertEqual(resp.status, 200)
        content_type = resp.header("content-type") or ""
        self.assertTrue(content_type.startswith("text/plain"), content_type)
        self.assertIn("version=0.0.4", content_type.replace(" ", ""))
        text = resp.raw.decode()
        # The writer's series are SQLite's writer; PostgreSQL's engine has its pool's instead.
        engine_series = (("monolite_pg_connections", "monolite_pg_waiting") if ON_POSTGRES else
                         ("monolite_writer_commits_total", "monolite_writer_queue_depth"))
        for name in ("monolite_http_requests_total", *engine_series):
            self.assertRegex(text, rf"(?m)^{name}(\{{[^}}]*\}})?\s+\S+", name)
        if ON_POSTGRES:
            self.assertGreaterEqual(metric_total(text, "monolite_pg_connections"), 1)
        else:
            self.assertGreaterEqual(metric_total(text, "monolite_writer_commits_total"), 2)
        self.assertGreaterEqual(metric_total(text, "monolite_http_requests_total"), 2)

    def test_metrics_request_counter_grows(self):
        before = metric_total(self.http.get("/metrics").raw.decode(),
                              "monolite_http_requests_total")
        for _ in range(5):
            self.assert_ok(self.http.get("/healthz"))
        after = metric_total(self.http.get("/metrics").raw.decode(),
                             "monolite_http_requests_total")
        self.assertGreaterEqual(after - before, 5)


class QueryRouteTest(SharedServerTestCase):
    def setUp(self):
        super().setUp()
        self.assert_ok(self.http.execute_many([
            stmt(f"CREATE TABLE people({AUTO_ID}, name TEXT)"),
            stmt("INSERT INTO people(name) VALUES ('ada'), ('bob')"),
        ]))
        self.addCleanup(self.http.execute, "DROP TABLE people")

    def test_query_returns_columns_rows_and_time(self):
        body = self.assert_ok(self.http.query("SELECT id, name FROM people ORDER BY id"))
        self.assertEqual(body["columns"], ["id", "name"])
        self.assertEqual(body["rows"], [[1, "ada"], [2, "bob"]])
        self.assertIsInstance(body["time_ms"], (int, float))
        self.assertGreaterEqual(body["time_ms"], 0)

    def test_query_with_no_rows_keeps_columns(self):
        body = self.assert_ok(self.http.query("SELECT id AS a, name AS b FROM people WHERE 1 = 0"))
        self.assertEqual(body["columns"], ["a", "b"])
        self.assertEqual(body["rows"], [])

    def test_query_with_params(self):
        rows = self.query_rows(self.http, "SELECT name FROM people WHERE id = ?", [2])
        self.assertEqual(rows, [["bob"]])

    def test_query_rejects_writes(self):
        for sql in ("INSERT INTO people(name) VALUES ('eve')",
                    "DELETE FROM people",
                    "CREATE TABLE nope(x integer)"):
            with self.subTest(sql=sql):
                self.assert_error(self.http.query(sql), 400, "READONLY")
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM people"), 2)

    def test_error_after_some_rows_is_an_error_not_partial_rows(self):
        sql = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5) "
               "SELECT CASE WHEN x > 2 THEN abs(-9223372036854775807 - 1) ELSE x END FROM c")
        self.assert_error(self.http.query(sql), 400, DATA_EXCEPTION)

    def test_query_sees_committed_writes(self):
        self.execute_ok(self.http, "INSERT INTO people(name) VALUES ('cy')")
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM people"), 3)


class ExecuteRouteTest(SharedServerTestCase):
    def setUp(self):
        super().setUp()
        self.execute_ok(self.http, f"CREATE TABLE items({AUTO_ID}, name TEXT UNIQUE NOT NULL)")
        self.addCleanup(self.http.execute, "DROP TABLE items")

    def count_items(self):
        return self.query_value(self.http, "SELECT count(*) FROM items")

    def test_single_statement(self):
        result = self.execute_ok(self.http, "INSERT INTO items(id, name) VALUES (7, 'x')")
        self.assertEqual(result["rows_affected"], 1)
        self.assertEqual(result["last_insert_id"], expected_last_insert_id(7))

    def test_rows_affected_counts_updates(self):
        self.execute_ok(self.http, "INSERT INTO items(name) VALUES ('a'), ('b'), ('c')")
        result = self.execute_ok(self.http, "UPDATE items SET name = name || '!'")
        self.assertEqual(result["rows_affected"], 3)

    def test_returning_through_execute_applies_every_row(self):
        result = self.execute_ok(self.http, "INSERT INTO items(name) VALUES ('a'), ('b'), ('c') "
                                            "RETURNING id")
        self.assertEqual(result["rows_affected"], 3)
        self.assertEqual(self.count_items(), 3)

    def test_statements_list_returns_one_result_each(self):
        body = self.assert_ok(self.http.execute_many([
            stmt("INSERT INTO items(id, name) VALUES (?, ?)", [10, "a"]),
            stmt("INSERT INTO items(id, name) VALUES (:id, :name)", {"id": 11, "name": "b"}),
            stmt("DELETE FROM items WHERE id = 10"),
        ]))
        self.assertEqual([r["rows_affected"] for r in body["results"]], [1, 1, 1])
        self.assertEqual(body["results"][1]["last_insert_id"], expected_last_insert_id(11))
        self.assertIsInstance(body["time_ms"], (int, float))
        self.assertEqual(self.query_rows(self.http, "SELECT id, name FROM items"),
                         [[11, "b"]])

    def test_failing_statement_rolls_back_the_whole_request(self):
        self.execute_ok(self.http, "INSERT INTO items(name) VALUES ('taken')")
        error = self.assert_error(self.http.execute_many([
            stmt("INSERT INTO items(name) VALUES ('first')"),
            stmt("INSERT INTO items(name) VALUES ('taken')"),
            stmt("INSERT INTO items(name) VALUES ('third')"),
        ]), 409, "SQLITE_CONSTRAINT_UNIQUE")
        self.assert_names_statement(error["message"], 1)
        self.assertEqual(self.count_items(), 1)

    def test_sql_error_in_later_statement_rolls_back(self):
        error = self.assert_error(self.http.execute_many([
            stmt("INSERT INTO items(name) VALUES ('a')"),
            stmt("UPDATE items SET name = 'b'"),
            stmt("INSERT INTO no_such_table VALUES (1)"),
        ]), 400, "SQLITE_ERROR")
        self.assert_names_statement(error["message"], 2)
        self.assertEqual(self.count_items(), 0)

    def test_failed_request_does_not_poison_the_next(self):
        self.assert_error(self.http.execute("INSERT INTO items(name) VALUES (NULL)"),
                          409, "SQLITE_CONSTRAINT_NOTNULL")
        self.execute_ok(self.http, "INSERT INTO items(name) VALUES ('ok')")
        self.assertEqual(self.count_items(), 1)

    def assert_names_statement(self, message, index):
        """The message names the failing statement, 0- or 1-based."""
        pattern = rf"(?i)statement\D{{0,3}}({index}|{index + 1})\b"
        self.assertRegex(message, pattern)


class BatchRouteTest(SharedServerTestCase):
    def setUp(self):
        super().setUp()
        self.execute_ok(self.http, f"CREATE TABLE notes({AUTO_ID}, body TEXT NOT NULL CHECK (length(body) > 0))")
        self.addCleanup(self.http.execute, "DROP TABLE notes")

    def test_mixed_reads_and_writes_in_one_transaction(self):
        body = self.assert_ok(self.http.batch([
            stmt("INSERT INTO notes(body) VALUES (?)", ["one"]),
            stmt("SELECT count(*) AS n FROM notes"),
            stmt("UPDATE notes SET body = 'uno'"),
            stmt("SELECT id, body FROM notes"),
        ]))
        results = body["results"]
        self.assertEqual(len(results), 4)
        self.assertEqual(results[0]["rows_affected"], 1)
        self.assertEqual(results[0]["last_insert_id"], expected_last_insert_id(1))
        self.assertEqual(results[1]["columns"], ["n"])
        self.assertEqual(results[1]["rows"], [[1]])
        self.assertEqual(results[2]["rows_affected"], 1)
        self.assertEqual(results[3]["rows"], [[1, "uno"]])
        self.assertIsInstance(body["time_ms"], (int, float))

    def test_insert_returning_rows(self):
        body = self.assert_ok(self.http.batch([
            stmt("INSERT INTO notes(id, body) VALUES (5, 'a'), (6, 'b') RETURNING id, body"),
        ]))
        result = body["results"][0]
        self.assertEqual(result["columns"], ["id", "body"])
        self.assertEqual(sorted(result["rows"]), [[5, "a"], [6, "b"]])
        self.assertEqual(result["rows_affected"], 2)
        self.assertEqual(result["last_insert_id"], expected_last_insert_id(6))

    def test_failure_rolls_back_the_whole_batch(self):
        error = self.assert_error(self.http.batch([
            stmt("INSERT INTO notes(body) VALUES ('kept?')"),
            stmt("SELECT * FROM notes"),
            stmt("INSERT INTO notes(body) VALUES ('')"),
        ]), 409, "SQLITE_CONSTRAINT_CHECK")
        self.assertRegex(error["message"], r"(?i)statement")
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM notes"), 0)

    def test_read_error_after_a_write_rolls_back_the_batch(self):
        overflow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                    "WHERE x < 5) SELECT CASE WHEN x > 2 THEN abs(-9223372036854775807 - 1) "
                    "ELSE x END FROM c")
        self.assert_error(self.http.batch([stmt("INSERT INTO notes(body) VALUES ('x')"),
                                           stmt(overflow)]), 400, DATA_EXCEPTION)
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM notes"), 0)

    def test_batch_writes_are_visible_to_queries(self):
        self.assert_ok(self.http.batch([stmt("INSERT INTO notes(body) VALUES ('x')")]))
        self.assertEqual(self.query_rows(self.http, "SELECT body FROM notes"), [["x"]])


class RequestShapeErrorTest(SharedServerTestCase):
    def post_raw(self, path, body, content_type="application/json"):
        return self.http.request("POST", path, body, {"Content-Type": content_type})

    def test_unparseable_json(self):
        for path in ("/sql/query", "/sql/execute", "/sql/batch"):
            for body in (b"{not json", b"", b'{"sql": "SELECT 1"', b"\xff\xfe"):
                with self.subTest(path=path, body=body):
                    self.assert_error(self.post_raw(path, body), 400, "BAD_JSON")

    def test_wrong_shapes(self):
        shapes = [
            {}, {"sql": 42}, {"sql": None}, {"sql": ""}, {"sql": "   "},
            {"sql": "SELECT 1; SELECT 2"}, [], "SELECT 1", 7, None,
            {"sql": ["SELECT 1"]},
        ]
        for path in ("/sql/query", "/sql/execute"):
            for shape in shapes:
                with self.subTest(path=path, shape=shape):
                    self.assert_error(self.http.post_json(path, shape), 400, "BAD_REQUEST")

    def test_bad_statements_arrays(self):
        for path in ("/sql/execute", "/sql/batch"):
            for statements in ([], "SELECT 1", {"sql": "SELECT 1"}, None, [{"sql": 1}],
                               [{"params": []}], ["SELECT 1"]):
                with self.subTest(path=path, statements=statements):
                    resp = self.http.post_json(path, {"statements": statements})
                    self.assert_error(resp, 400, "BAD_REQUEST")

    def test_single_statement_with_trailing_semicolon_or_comment(self):
        for sql in ("SELECT 1;", "SELECT 1;  \n", "SELECT 1; -- trailing comment"):
            with self.subTest(sql=sql):
                self.assertEqual(self.query_rows(self.http, sql), [[1]])

    def test_batch_requires_statements(self):
        self.assert_error(self.http.post_json("/sql/batch", {}), 400, "BAD_REQUEST")

    def test_bad_params(self):
        cases = [
            ("SELECT ?, ?", [1]),
            ("SELECT ?", [1, 2]),
            ("SELECT 1", [1]),
            ("SELECT :a", {"b": 1}),
            ("SELECT :a", {":a": 1, ":zz": 2}),
            ("SELECT ?", [2**63]),
            ("SELECT ?", [2**64 - 1]),
            ("SELECT ?", [2**64]),
            ("SELECT ?", [10**23]),
            ("SELECT :big", {"big": 2**64}),
        ]
        for sql, params in cases:
            with self.subTest(sql=sql, params=params):
                self.assert_error(self.http.query(sql, params), 400, "BAD_PARAMS")
                self.assert_error(self.http.execute(sql, params), 400, "BAD_PARAMS")

    def test_bad_params_inside_statements(self):
        self.assert_error(self.http.batch([stmt("SELECT 1"), stmt("SELECT ?", [])]),
                          400, "BAD_PARAMS")

    def test_sql_errors(self):
        for sql in ("SELEC 1", "SELECT * FROM no_such_table", "SELECT no_such_column"):
            with self.subTest(sql=sql):
                self.assert_error(self.http.query(sql), 400, "SQLITE_ERROR")
                self.assert_error(self.http.execute(sql), 400, "SQLITE_ERROR")
                self.assert_error(self.http.batch([stmt(sql)]), 400, "SQLITE_ERROR")

    def test_transaction_control_is_forbidden(self):
        for sql in ("BEGIN", "BEGIN IMMEDIATE", "COMMIT", "END", "ROLLBACK",
                    "SAVEPOINT sp", "RELEASE sp", "ROLLBACK TO sp"):
            with self.subTest(sql=sql):
                self.assert_error(self.http.execute(sql), 403, "SQLITE_AUTH")
                self.assert_error(self.http.batch([stmt(sql)]), 403, "SQLITE_AUTH")
                self.assert_error(self.http.query(sql), 403, "SQLITE_AUTH")

    def test_unsupported_media_type(self):
        for content_type in ("text/plain", "application/x-www-form-urlencoded",
                             "multipart/form-data; boundary=x"):
            with self.subTest(content_type=content_type):
                resp = self.post_raw("/sql/query", b'{"sql":"SELECT 1"}', content_type)
                self.assert_error(resp, 415, "UNSUPPORTED_MEDIA_TYPE")

    def test_json_content_type_variants_are_accepted(self):
        for headers in ({}, {"Content-Type": "application/json; charset=utf-8"},
                        {"Content-Type": "Application/JSON"}):
            with self.subTest(headers=headers):
                resp = self.http.request("POST", "/sql/query", b'{"sql":"SELECT 1"}', headers)
                self.assertEqual(self.assert_ok(resp)["rows"], [[1]])

    def test_unknown_paths(self):
        for method, path in (("GET", "/"), ("GET", "/nope"), ("POST", "/sql/nope"),
                             ("POST", "/sql"), ("GET", "/healthz/extra")):
            with self.subTest(method=method, path=path):
                resp = self.http.request(method, path, b"{}" if method == "POST" else None)
                self.assert_error(resp, 404, "NOT_FOUND")

    def test_method_not_allowed(self):
        cases = [("GET", "/sql/query", "POST"), ("GET", "/sql/execute", "POST"),
                 ("GET", "/sql/batch", "POST"), ("DELETE", "/sql/query", "POST"),
                 ("POST", "/healthz", "GET"), ("POST", "/readyz", "GET"),
                 ("PUT", "/metrics", "GET")]
        for method, path, allowed in cases:
            with self.subTest(method=method, path=path):
                body = b"{}" if method in ("POST", "PUT") else None
                resp = self.http.request(method, path, body)
                self.assert_error(resp, 405, "METHOD_NOT_ALLOWED")
                allow = [m.strip() for m in (resp.header("allow") or "").split(",")]
                self.assertIn(allowed, allow)

    def test_garbage_never_yields_html_or_5xx(self):
        bodies = [b"null", b"[]", b"{}", b'{"sql":{}}', b'{"statements":[[]]}',
                  b'{"sql":"SELECT ?","params":"x"}', b'{"sql":"SELECT ?","params":[{}]}',
                  b'{"sql":"SELECT ?","params":[[1]]}', b"\x00\x01", b"{" * 5000,
                  b'{"sql":"\\ud800"}', "{\"sql\":\"SELECT '\u00e9'\"}".encode("latin-1")]
        for path in ("/sql/query", "/sql/execute", "/sql/batch"):
            for body in bodies:
                with self.subTest(path=path, body=body[:40]):
                    resp = self.post_raw(path, body)
                    self.assertGreaterEqual(resp.status, 200)
                    self.assertLess(resp.status, 500, resp.raw[:500])
                    if resp.status != 200:
                        error = self.assert_json_response(resp, resp.status)["error"]
                        self.assertIn(error["code"], KNOWN_ERROR_CODES)


class SchemaChangeTest(SharedServerTestCase):
    """Statements cached by the server must follow schema changes."""

    REPEATS = 8  # enough to go through every reader connection

    def test_select_star_follows_a_recreated_table(self):
        self.execute_ok(self.http, "CREATE TABLE shape(a integer)")
        self.addCleanup(self.http.execute, "DROP TABLE shape")
        self.execute_ok(self.http, "INSERT INTO shape VALUES (1)")
        self.assert_every_read_sees(["a"], [[1]])
        self.assert_ok(self.http.execute_many([
            stmt("DROP TABLE shape"),
            stmt("CREATE TABLE shape(b integer, c integer)"),
            stmt("INSERT INTO shape VALUES (2, 3)"),
        ]))
        self.assert_every_read_sees(["b", "c"], [[2, 3]])

    def assert_every_read_sees(self, columns, rows):
        for attempt in range(self.REPEATS):
            with self.subTest(attempt=attempt):
                body = self.assert_ok(self.http.query("SELECT * FROM shape"))
                self.assertEqual((body["columns"], body["rows"]), (columns, rows))
                result = self.assert_ok(self.http.batch([stmt("SELECT * FROM shape")]))
                result = result["results"][0]
                self.assertEqual((result["columns"], result["rows"]), (columns, rows))


class ConstraintErrorTest(SharedServerTestCase):
    def setUp(self):
        super().setUp()
        self.assert_ok(self.http.execute_many([
            stmt("CREATE TABLE parent(id INTEGER PRIMARY KEY)"),
            stmt("CREATE TABLE child(id INTEGER PRIMARY KEY, "
                 "code TEXT UNIQUE, name TEXT NOT NULL, qty INTEGER CHECK (qty >= 0), "
                 "parent_id INTEGER REFERENCES parent(id))"),
            stmt("INSERT INTO parent(id) VALUES (1)"),
            stmt("INSERT INTO child VALUES (1, 'c1', 'one', 1, 1)"),
        ]))
        self.addCleanup(self.http.execute_many,
                        [stmt("DROP TABLE child"), stmt("DROP TABLE parent")])

    def test_constraint_violations_are_409(self):
        cases = [
            ("INSERT INTO child VALUES (2, 'c1', 'two', 1, 1)", "SQLITE_CONSTRAINT_UNIQUE"),
            ("INSERT INTO child VALUES (1, 'c2', 'two', 1, 1)", PRIMARY_KEY_VIOLATION),
            ("INSERT INTO child VALUES (2, 'c2', NULL, 1, 1)", "SQLITE_CONSTRAINT_NOTNULL"),
            ("INSERT INTO child VALUES (2, 'c2', 'two', -1, 1)", "SQLITE_CONSTRAINT_CHECK"),
            ("INSERT INTO child VALUES (2, 'c2', 'two', 1, 99)",
             "SQLITE_CONSTRAINT_FOREIGNKEY"),
            ("DELETE FROM parent", "SQLITE_CONSTRAINT_FOREIGNKEY"),
        ]
        for sql, code in cases:
            with self.subTest(code=code, sql=sql):
                self.assert_error(self.http.execute(sql), 409, code)
                self.assert_error(self.http.batch([stmt(sql)]), 409, code)
        self.assertEqual(self.query_rows(self.http, "SELECT id FROM child"), [[1]])
        self.assertEqual(self.query_rows(self.http, "SELECT id FROM parent"), [[1]])


if __name__ == "__main__":
    unittest.main()
