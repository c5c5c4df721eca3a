"""Limits that protect the server: the SQL sandbox, the statement timeout, size caps on
SQL, parameters, results and bodies, and the connection limit.

The servers here listen on loopback without --auth, so no token is needed. On PostgreSQL
(MONOLITE_TEST_ENGINE=postgres) there is no SQLite sandbox: what it refuses is not PostgreSQL's SQL
there, and the role is the sandbox (test_pg_engine.py).
"""

import os
import time
import unittest

from harness import (AUTO_ID, ON_POSTGRES, SharedServerTestCase, ServerTestCase, closed_by_peer, open_socket,
                     raw_request, read_response, run_in_threads, stmt, wait_until)

RUNAWAY = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
           "SELECT count(*) FROM c")
RUNAWAY_INSERT = ("INSERT INTO sink(n) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                  "SELECT x + 1 FROM c) SELECT count(*) FROM c")
SQL_ROUTES = ("/sql/query", "/sql/execute", "/sql/batch")
# What a statement SQLite's sandbox refuses gets: on PostgreSQL it is not SQL there.
REFUSED = (400, "SQLITE_ERROR") if ON_POSTGRES else (403, "SQLITE_AUTH")


def rows_sql(count, width=1):
    """A SELECT returning `count` rows, each one text value of `width` bytes."""
    text = f"repeat('x', {width})" if ON_POSTGRES else f"printf('%.{width}c', 'x')"
    return (f"WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {count}) "
            f"SELECT {text} AS v FROM c")


def blob_sql(size):
    """An expression for a blob of `size` bytes."""
    return f"decode(repeat('ab', {size}), 'hex')" if ON_POSTGRES else f"randomblob({size})"


def sql_of_length(length):
    """A SELECT of a string literal, exactly `length` bytes of ASCII."""
    prefix, suffix = "SELECT '", "'"
    return prefix + "x" * (length - len(prefix) - len(suffix)) + suffix


def placeholders(count):
    return "SELECT " + ", ".join("?" for _ in range(count))


def named_placeholders(count):
    sql = "SELECT " + ", ".join(f":p{i}" for i in range(count))
    return sql, {f"p{i}": i for i in range(count)}


class LimitsTestCase(SharedServerTestCase):
    def post_sql(self, path, sql, params=None):
        """`sql` through route `path`, as that route's body shape wants it."""
        if path == "/sql/batch":
            return self.http.batch([stmt(sql, params)])
        return self.http.post_json(path, stmt(sql, params))


# ---------------------------------------------------------------------- sandbox


class SandboxTest(LimitsTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.workdir = os.path.dirname(cls.server.log_path)
        cls.db_path = os.path.join(cls.workdir, "app.db")

    def setUp(self):
        super().setUp()
        self.assert_ok(self.http.execute(f"CREATE TABLE IF NOT EXISTS t({AUTO_ID}, v TEXT)"))

    def in_workdir(self, name):
        return os.path.join(self.workdir, name)

    def assert_refused_everywhere(self, sql, names):
        for path in SQL_ROUTES:
            with self.subTest(sql=sql, path=path):
                if ON_POSTGRES:  # not PostgreSQL's SQL: an error of the statement, with its sqlstate
                    error = self.assert_error(self.post_sql(path, sql), 400, "SQLITE_ERROR")
                    self.assertRegex(error.get("sqlstate", ""), r"^[0-9A-Z]{5}$", error)
                    continue
                error = self.assert_error(self.post_sql(path, sql), 403, "SQLITE_AUTH")
                self.assertIn(names.lower(), error["message"].lower(),
                              "the message does not name what was refused")

    def assert_still_wal(self):
        if ON_POSTGRES:  # PostgreSQL's own durability setting is what stays
            self.assertEqual(self.query_value(self.http, "SHOW synchronous_commit"), "on")
            return
        with open(self.db_path, "rb") as db:
            header = db.read(20)
        self.assertEqual(header[18:20], b"\x02\x02", "the database left WAL mode")

    def test_attach_and_detach(self):
        target = self.in_workdir("attached.db")
        uri_target = self.in_workdir("uri.db")
        for sql in (f"ATTACH DATABASE '{target}' AS other", f"attach '{target}' as other",
                    f"/* hello */ ATTACH '{target}' AS other",
                    f"ATTACH 'file:{uri_target}?mode=rwc' AS other",
                    "ATTACH ':memory:' AS scratch", "ATTACH '' AS scratch"):
            self.assert_refused_everywhere(sql, "attach")
        for sql in ("DETACH DATABASE other", "detach other", "DETACH main"):
            self.assert_refused_everywhere(sql, "detach")
        self.assertFalse(os.path.exists(target), "ATTACH created a file")
        self.assertFalse(os.path.exists(uri_target), "ATTACH created a file")

    def test_load_extension(self):
        library = self.in_workdir("evil.so")
        for sql in (f"SELECT load_extension('{library}')",
                    f"select LOAD_EXTENSION('{library}', 'sqlite3_evil_init')",
                    f"SELECT (SELECT load_extension('{library}')) AS x",
                    f"SELECT v FROM t WHERE load_extension('{library}') IS NULL"):
            self.assert_refused_everywhere(sql, "load_extension")

    def test_dangerous_pragmas(self):
        cases = [
            ("PRAGMA writable_schema = ON", "writable_schema"),
            ("PRAGMA main.writable_schema=1", "writable_schema"),
            ("PRAGMA journal_mode = DELETE", "journal_mode"),
            ("pragma Journal_Mode=off", "journal_mode"),
            ("PRAGMA main.journal_mode = MEMORY", "journal_mode"),
            ("PRAGMA synchronous = OFF", "synchronous"),
            ("PRAGMA main.synchronous=0", "synchronous"),
            ("PRAGMA wal_checkpoint(TRUNCATE)", "wal_checkpoint"),
            ("PRAGMA wal_checkpoint", "wal_checkpoint"),
            ("PRAGMA wal_autocheckpoint = 0", "wal_autocheckpoint"),
            ("PRAGMA wal_autocheckpoint=100000", "wal_autocheckpoint"),
        ]
        for sql, names in cases:
            self.assert_refused_everywhere(sql, names)
        self.assert_still_wal()

    def test_vacuum(self):
        copy = self.in_workdir("copy.db")
        plain = ("VACUUM", "-- comment\n VACUUM", "; VACUUM")
        for sql in ("vacuum main", f"VACUUM INTO '{copy}'", f"VACUUM main INTO '{copy}'",
                    f"VACUUM INTO 'file:{copy}?mode=rwc'", f";VACUUM INTO '{copy}'") + (() if ON_POSTGRES else plain):
            self.assert_refused_everywhere(sql, "vacuum")
        for sql in plain if ON_POSTGRES else ():
            # PostgreSQL's own VACUUM: alone on /sql/execute it runs (outside a transaction, on the
            # tables the role owns); inside the transaction of /sql/query or /sql/batch it cannot.
            self.execute_ok(self.http, sql)
            for path in ("/sql/query", "/sql/batch"):
                self.assertEqual(self.assert_json_response(self.post_sql(path, sql), 400)["error"]["sqlstate"], "25001")
        self.assertFalse(os.path.exists(copy), "VACUUM INTO created a file")
        self.assert_still_wal()

    def test_refusal_rolls_back_the_whole_request(self):
        for path, body in (
                ("/sql/execute", {"statements": [stmt("INSERT INTO t(v) VALUES ('before')"),
                                                 stmt("PRAGMA synchronous = OFF")]}),
                ("/sql/batch", {"statements": [stmt("INSERT INTO t(v) VALUES ('before')"),
                                               stmt("VACUUM")]})):
            with self.subTest(path=path):
                self.assert_error(self.http.post_json(path, body), *REFUSED)
        self.assertEqual(self.query_value(self.http,
                                          "SELECT count(*) FROM t WHERE v = 'before'"), 0)

    def test_reading_pragmas_still_work(self):
        if ON_POSTGRES:  # no PRAGMA: the catalog is information_schema (and pg_catalog)
            self.assert_error(self.http.query("PRAGMA table_info(t)"), 400, "SQLITE_ERROR")
            self.assertEqual(self.query_rows(self.http, "SELECT column_name FROM information_schema.columns "
                                                        "WHERE table_name = 't' ORDER BY ordinal_position"),
                             [["id"], ["v"]])
            return
        body = self.assert_ok(self.http.query("PRAGMA table_info(t)"))
        self.assertEqual([row[1] for row in body["rows"]], ["id", "v"])
        self.assertEqual(len(self.query_rows(self.http, "PRAGMA user_version")), 1)
        self.assertEqual(self.query_rows(self.http, "SELECT name FROM pragma_table_info('t') "
                                                    "ORDER BY cid"), [["id"], ["v"]])
        self.assertEqual(len(self.query_rows(self.http, "PRAGMA index_list(t)")), 0)
        result = self.assert_ok(self.http.batch([stmt("PRAGMA table_info(t)")]))
        self.assertEqual(len(result["results"][0]["rows"]), 2)

    def test_server_keeps_serving_after_refusals(self):
        self.assert_refused_everywhere("ATTACH ':memory:' AS scratch", "attach")
        self.execute_ok(self.http, "INSERT INTO t(v) VALUES ('after')")
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM t WHERE v = 'after'"),
                         1)
        self.execute_ok(self.http, "DELETE FROM t")


class TokenizerPointerTest(ServerTestCase):
    """fts3_tokenizer() hands out and takes raw C pointers (this SQLite is built with
    SQLITE_ENABLE_FTS3_TOKENIZER): one argument leaks an address, two register a tokenizer
    whose functions SQLite then calls. Own server: if the sandbox misses it, the server dies."""

    def test_fts3_tokenizer_is_refused(self):
        server = self.start_server()
        http = self.client(server, timeout=10)
        if ON_POSTGRES:  # no such function there
            for path in SQL_ROUTES:
                call = stmt("SELECT fts3_tokenizer('simple')")
                body = {"statements": [call]} if path == "/sql/batch" else call
                error = self.assert_error(http.post_json(path, body), 400, "SQLITE_ERROR")
                self.assertEqual(error.get("sqlstate"), "42883", error)
            return
        for sql in ("SELECT fts3_tokenizer('simple')",
                    "SELECT hex(fts3_tokenizer('porter'))",
                    "SELECT fts3_tokenizer('evil', x'4141414141414141')"):
            for path in SQL_ROUTES:
                with self.subTest(sql=sql, path=path):
                    body = {"statements": [stmt(sql)]} if path == "/sql/batch" else stmt(sql)
                    error = self.assert_error(http.post_json(path, body), 403, "SQLITE_AUTH")
                    self.assertIn("fts3_tokenizer", error["message"])
        resp = http.batch([stmt("SELECT fts3_tokenizer('evil', x'4141414141414141')"),
                           stmt("CREATE VIRTUAL TABLE v USING fts3(content, tokenize=evil)")])
        self.assert_error(resp, 403, "SQLITE_AUTH")
        self.assertEqual(self.query_rows(http, "SELECT 1"), [[1]])
        # Full-text search itself still works with the built-in tokenizers.
        self.assert_ok(http.execute_many([
            stmt("CREATE VIRTUAL TABLE docs USING fts4(body, tokenize=porter)"),
            stmt("INSERT INTO docs(body) VALUES ('running servers')")]))
        self.assertEqual(self.query_rows(http, "SELECT body FROM docs WHERE docs MATCH 'run'"),
                         [["running servers"]])


# --------------------------------------------------------------- default caps


class DefaultCapsTest(LimitsTestCase):
    """Defaults: --max-sql-length 100000, --max-params 1000, --max-body 8 MiB."""

    def test_twenty_megabyte_body_is_413(self):
        padding = b" " * (20 * 1024 * 1024)
        body = b'{"sql": "SELECT 1"' + padding + b"}"
        sock, resp = self.send_and_read(self.server, raw_request("POST", "/sql/execute", body), timeout=20)
        self.assert_error(resp, 413, "BODY_TOO_LARGE")
        self.assertTrue(closed_by_peer(sock, 10), "connection still open after 413")
        self.assertEqual(self.query_rows(self.http, "SELECT 1"), [[1]])

    def test_default_sql_length(self):
        sql = sql_of_length(100_000)
        self.assertEqual(len(self.query_rows(self.http, sql)[0][0]), 100_000 - 9)
        for path in SQL_ROUTES:
            with self.subTest(path=path):
                self.assert_error(self.post_sql(path, sql_of_length(100_001)), 413,
                                  "SQLITE_TOOBIG")

    def test_default_param_count(self):
        self.assertEqual(len(self.query_rows(self.http, placeholders(1000), list(range(1000)))[0]),
                         1000)
        for path in SQL_ROUTES:
            with self.subTest(path=path):
                resp = self.post_sql(path, placeholders(1001), list(range(1001)))
                self.assert_json_response(resp, 400)
                self.assertIn("error", resp.body)


# ------------------------------------------------------------ configured caps


class ConfiguredCapsTest(LimitsTestCase):
    MAX_SQL = 1000
    MAX_PARAMS = 10
    MAX_ROWS = 100
    MAX_BYTES = 100_000
    server_flags = ("--max-sql-length", str(MAX_SQL), "--max-params", str(MAX_PARAMS),
                    "--max-result-rows", str(MAX_ROWS), "--max-result-bytes", str(MAX_BYTES))

    def setUp(self):
        super().setUp()
        self.assert_ok(self.http.execute("CREATE TABLE IF NOT EXISTS capped(v text)"))
        self.addCleanup(self.http.execute, "DELETE FROM capped")

    def test_sql_length(self):
        self.assertEqual(len(self.query_rows(self.http, sql_of_length(self.MAX_SQL))), 1)
        self.assert_ok(self.http.execute(sql_of_length(self.MAX_SQL)))
        for path in SQL_ROUTES:
            with self.subTest(path=path):
                self.assert_error(self.post_sql(path, sql_of_length(self.MAX_SQL + 1)), 413,
                                  "SQLITE_TOOBIG")
        long_insert = "INSERT INTO capped(v) VALUES ('" + "y" * self.MAX_SQL + "')"
        self.assert_error(self.http.execute_many([stmt("INSERT INTO capped(v) VALUES (1)"),
                                                  stmt(long_insert)]), 413, "SQLITE_TOOBIG")
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM capped"), 0)

    def test_param_count(self):
        self.assertEqual(self.query_rows(self.http, placeholders(self.MAX_PARAMS),
                                         list(range(self.MAX_PARAMS))), [list(range(10))])
        sql, named = named_placeholders(self.MAX_PARAMS)
        self.assertEqual(self.query_rows(self.http, sql, named), [list(range(10))])
        too_many = self.MAX_PARAMS + 1
        named_sql, named_params = named_placeholders(too_many)
        for path in SQL_ROUTES:
            for sql, params in ((placeholders(too_many), list(range(too_many))),
                                (named_sql, named_params)):
                with self.subTest(path=path, sql=sql[:20]):
                    resp = self.post_sql(path, sql, params)
                    self.assert_json_response(resp, 400)
                    self.assertIsInstance(resp.body.get("error"), dict, resp.body)

    def test_result_rows(self):
        self.assertEqual(len(self.query_rows(self.http, rows_sql(self.MAX_ROWS))), self.MAX_ROWS)
        self.assert_error(self.http.query(rows_sql(self.MAX_ROWS + 1)), 400, "RESULT_TOO_LARGE")
        self.assert_error(self.http.query(rows_sql(100_000)), 400, "RESULT_TOO_LARGE")
        self.assert_error(self.http.batch([stmt("INSERT INTO capped(v) VALUES (1)"),
                                           stmt(rows_sql(self.MAX_ROWS + 1))]),
                          400, "RESULT_TOO_LARGE")
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM capped"), 0)

    def test_result_bytes(self):
        self.assertEqual(len(self.query_rows(self.http, rows_sql(10, 1000))), 10)
        for sql in (rows_sql(1, 150_000), rows_sql(99, 2_000),
                    f"SELECT {blob_sql(200000)}", f"SELECT {blob_sql(90000)}, {blob_sql(90000)}"):
            with self.subTest(sql=sql[:60]):
                self.assert_error(self.http.query(sql), 400, "RESULT_TOO_LARGE")
                self.assert_error(self.http.batch([stmt(sql)]), 400, "RESULT_TOO_LARGE")

    def test_server_keeps_serving_after_caps(self):
        self.assert_error(self.http.query(rows_sql(1, 150_000)), 400, "RESULT_TOO_LARGE")
        self.execute_ok(self.http, "INSERT INTO capped(v) VALUES ('ok')")
        self.assertEqual(self.query_rows(self.http, "SELECT v FROM capped"), [["ok"]])


class CapsFromEnvironmentTest(ServerTestCase):
    """Each cap is also an environment variable, MONOLITE_<FLAG>."""

    def test_caps_from_environment(self):
        server = self.start_server(env={"MONOLITE_MAX_SQL_LENGTH": "200",
                                        "MONOLITE_MAX_PARAMS": "3",
                                        "MONOLITE_MAX_RESULT_ROWS": "5",
                                        "MONOLITE_MAX_RESULT_BYTES": "1000",
                                        "MONOLITE_STATEMENT_TIMEOUT": "1"})
        http = self.client(server, timeout=30)
        self.assert_ok(http.query(sql_of_length(200)))
        self.assert_error(http.query(sql_of_length(201)), 413, "SQLITE_TOOBIG")
        self.assert_ok(http.query(placeholders(3), [1, 2, 3]))
        self.assert_json_response(http.query(placeholders(4), [1, 2, 3, 4]), 400)
        self.assertEqual(len(self.assert_ok(http.query(rows_sql(5)))["rows"]), 5)
        self.assert_error(http.query(rows_sql(6)), 400, "RESULT_TOO_LARGE")
        self.assert_error(http.query(rows_sql(1, 2000)), 400, "RESULT_TOO_LARGE")
        started = time.monotonic()
        self.assert_error(http.query(RUNAWAY), 504, "SQLITE_INTERRUPT")
        self.assertLess(time.monotonic() - started, 5.0)


# ----------------------------------------------------------- statement timeout


class StatementTimeoutTest(LimitsTestCase):
    server_flags = ("--statement-timeout", "1")

    def setUp(self):
        super().setUp()
        self.assert_ok(self.http.execute(f"CREATE TABLE IF NOT EXISTS sink({AUTO_ID}, n bigint)"))
        self.addCleanup(self.http.execute, "DELETE FROM sink")

    def assert_interrupted(self, send):
        started = time.monotonic()
        resp = send()
        elapsed = time.monotonic() - started
        self.assert_error(resp, 504, "SQLITE_INTERRUPT")
        self.assertGreater(elapsed, 0.7, "interrupted before the timeout")
        self.assertLess(elapsed, 5.0, "interrupted long after the 1 s timeout")

    def assert_still_serving(self):
        self.assertEqual(self.query_rows(self.http, "SELECT 1"), [[1]])
        self.execute_ok(self.http, "INSERT INTO sink(n) VALUES (-1)")
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM sink WHERE n = -1"), 1)
        self.execute_ok(self.http, "DELETE FROM sink WHERE n = -1")

    def test_runaway_query(self):
        self.assert_interrupted(lambda: self.http.query(RUNAWAY))
        self.assert_still_serving()

    def test_runaway_execute(self):
        self.assert_interrupted(lambda: self.http.execute(RUNAWAY_INSERT))
        self.assert_interrupted(lambda: self.http.execute(RUNAWAY))
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM sink"), 0)
        self.assert_still_serving()

    def test_runaway_in_batch_rolls_back_the_batch(self):
        self.assert_interrupted(lambda: self.http.batch([stmt("INSERT INTO sink(n) VALUES (7)"),
                                                         stmt(RUNAWAY)]))
        self.assertEqual(self.query_value(self.http, "SELECT count(*) FROM sink"), 0)
        self.assert_still_serving()

    def test_only_the_runaway_fails_among_concurrent_writes(self):
        writers, per_writer = 6, 5

        def work(index):
            client = self.server.client(timeout=30)
            try:
                if index == 0:
                    return [client.execute(RUNAWAY_INSERT)]
                time.sleep(0.02 * (index // 2))  # some race the runaway, some queue behind it
                return [client.execute("INSERT INTO sink(id, n) VALUES (?, ?)",
                                       [index * 100 + seq, index]) for seq in range(per_writer)]
            finally:
                client.close()

        results = run_in_threads(writers + 1, work, timeout=60)
        self.assert_error(results[0][0], 504, "SQLITE_INTERRUPT")
        for index, responses in enumerate(results[1:], start=1):
            for seq, resp in enumerate(responses):
                with self.subTest(writer=index, seq=seq):
                    self.assert_ok(resp)
        ids = {row[0] for row in self.query_rows(self.http, "SELECT id FROM sink")}
        self.assertEqual(ids, {i * 100 + s for i in range(1, writers + 1)
                               for s in range(per_writer)})


# ----------------------------------------------------------------- connections


class ConnectionLimitTest(ServerTestCase):
    def healthz_on_new_connection(self, server, timeout=5.0):
        sock = open_socket(server.port, timeout)
        try:
            try:
                sock.sendall(raw_request("GET", "/healthz"))
            except (BrokenPipeError, ConnectionResetError):
                pass  # refused connections may be closed before the request is read
            return sock, read_response(sock.makefile("rb"))
        except Exception:
            sock.close()
            raise

    def test_slow_half_open_connections_do_not_block_healthz(self):
        server = self.start_server("--max-connections", "1024")
        slow = []
        self.addCleanup(lambda: [s.close() for s in slow])
        for index in range(300):
            sock = open_socket(server.port, timeout=5)
            sock.sendall(b"GET /heal" if index % 2 else b"POST /sql/query HTTP/1.1\r\nHost: x\r\n")
            slow.append(sock)
        for attempt in range(5):
            with self.subTest(attempt=attempt):
                started = time.monotonic()
                sock, resp = self.healthz_on_new_connection(server, timeout=1.0)
                sock.close()
                self.assertEqual(resp.status, 200)
                self.assertLess(time.monotonic() - started, 1.0)
        client = self.client(server, timeout=5)
        self.assertEqual(self.query_rows(client, "SELECT 1"), [[1]])

    def test_connections_past_the_limit_get_503_and_are_closed(self):
        limit = 4
        server = self.start_server("--max-connections", str(limit))
        held = []
        self.addCleanup(lambda: [s.close() for s in held])

        def admitted():
            sock, resp = self.healthz_on_new_connection(server)
            if resp.status == 200:
                held.append(sock)
                return True
            sock.close()  # a connection from start-up may not be released yet
            return False

        for _ in range(limit):
            self.assertTrue(wait_until(admitted, 5.0), "connection under the limit refused")

        for attempt in range(2):
            with self.subTest(attempt=attempt):
                sock, resp = self.healthz_on_new_connection(server)
                self.addCleanup(sock.close)
                self.assert_error(resp, 503, "OVERLOADED")
                self.assertTrue(closed_by_peer(sock, 5), "refused connection left open")

        # The held connections still work, and closing one makes room for another.
        reader = held[0].makefile("rb")
        held[0].sendall(raw_request("GET", "/healthz"))
        self.assertEqual(read_response(reader).status, 200)
        held.pop().close()
        self.assertTrue(wait_until(admitted, 5.0), "no room after a connection closed")


if __name__ == "__main__":
    unittest.main()
