"""monolite serving PostgreSQL (--db postgres://…), what only that engine has to show.

The PostgreSQL role is the sandbox (there is no SQLite authorizer): with the least-privilege role
below, DDL and COPY … PROGRAM are refused with 403 and nothing happens. Two monolite processes on
one database behind a real Caddy lose no acknowledged write when one is killed. /readyz follows
PostgreSQL going away and coming back, without a restart of monolite.

These tests need PostgreSQL whatever MONOLITE_TEST_ENGINE says, and fail (never skip) without it.
Every PostgreSQL here and every process is stopped by PID.
"""

import os
import secrets
import tempfile
import unittest

import postgres
from harness import HOST, ServerTestCase, WriteLoad, read_load_ids, run_cli, stmt, wait_until
from test_caddy import Caddy
from test_routes import metric_total

# The role monolite should log in as (docs/security.md): it may read and write the rows of the
# tables that exist, and nothing else. Run as the tables' owner after creating them; PASSWORD is
# left out because the tests' PostgreSQL trusts loopback. PUBLIC loses TEMP and CREATE, which
# PostgreSQL grants it by default (CREATE on schema public only before version 15).
LEAST_PRIVILEGE_ROLE_SQL = """\
CREATE ROLE app LOGIN;
REVOKE ALL ON DATABASE {database} FROM PUBLIC;
GRANT CONNECT ON DATABASE {database} TO app;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO app;
"""
INSUFFICIENT_PRIVILEGE = "42501"
WRITERS = 6
ACKED_BEFORE_KILL = 300
ACKED_AFTER_KILL = 300
OUTAGE_TIMEOUT_S = 30.0


def start_private_postgres(test_class):
    """A PostgreSQL of the class's own, stopped (by PID) when the class is done."""
    server = postgres.PostgresServer()
    test_class.addClassCleanup(server.stop)
    return server.start()


class LeastPrivilegeRoleTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = start_private_postgres(cls)
        cls.database = cls.pg.new_database()
        cls.pg.psql(cls.database, "CREATE TABLE t(id bigserial PRIMARY KEY, v text NOT NULL); "
                                  "INSERT INTO t(v) VALUES ('seed')")
        cls.pg.psql(cls.database, LEAST_PRIVILEGE_ROLE_SQL.format(database=cls.database))
        cls.app_url = f"postgresql://app@{HOST}:{cls.pg.port}/{cls.database}"

    def setUp(self):
        super().setUp()
        self.server = self.start_server(db_path=self.app_url)
        self.http = self.client(self.server)

    def as_owner(self, sql):
        return self.pg.psql(self.database, sql)

    def assert_refused(self, sql):
        error = self.assert_error(self.http.execute(sql), 403, "SQLITE_AUTH")
        self.assertEqual(error.get("sqlstate"), INSUFFICIENT_PRIVILEGE, error)
        return error

    def test_ddl_is_refused_and_nothing_changes(self):
        before = self.as_owner("SELECT id, v FROM t ORDER BY id")
        for sql in ("CREATE TABLE t2(x integer)", "DROP TABLE t", "ALTER TABLE t ADD COLUMN w integer",
                    "CREATE TEMP TABLE scratch(x integer)", "TRUNCATE t", "CREATE INDEX t_v ON t(v)"):
            with self.subTest(sql=sql):
                self.assert_refused(sql)
        self.assertEqual(self.as_owner("SELECT to_regclass('public.t2'), to_regclass('public.t_v')"), [(None, None)])
        self.assertEqual(self.as_owner("SELECT column_name FROM information_schema.columns "
                                       "WHERE table_name = 't' ORDER BY ordinal_position"), [("id",), ("v",)])
        self.assertEqual(self.as_owner("SELECT id, v FROM t ORDER BY id"), before)

    def test_copy_program_and_server_files_are_refused(self):
        marker = os.path.join(tempfile.gettempdir(), "monolite-copy-" + secrets.token_hex(6))
        self.addCleanup(lambda: os.path.exists(marker) and os.remove(marker))
        for sql in (f"COPY t TO PROGRAM 'touch {marker}'", f"COPY t FROM PROGRAM 'touch {marker}'",
                    f"COPY t TO '{marker}'"):
            with self.subTest(sql=sql):
                self.assert_refused(sql)
                self.assertFalse(os.path.exists(marker), "the COPY ran")

    def test_refusal_rolls_back_the_whole_request(self):
        resp = self.http.execute_many([stmt("INSERT INTO t(v) VALUES ('before')"), stmt("DROP TABLE t")])
        self.assertEqual(self.assert_error(resp, 403, "SQLITE_AUTH").get("sqlstate"), INSUFFICIENT_PRIVILEGE)
        self.assertEqual(self.as_owner("SELECT count(*) FROM t WHERE v = 'before'"), [("0",)])

    def test_rows_are_still_read_and_written(self):
        self.execute_ok(self.http, "INSERT INTO t(v) VALUES (?)", ["new"])
        updated = self.execute_ok(self.http, "UPDATE t SET v = ? WHERE v = ?", ["newer", "new"])
        self.assertEqual(updated["rows_affected"], 1)
        self.assertEqual(self.query_rows(self.http, "SELECT v FROM t WHERE v = ?", ["newer"]), [["newer"]])
        self.assertEqual(self.as_owner("SELECT count(*) FROM t WHERE v = 'newer'"), [("1",)])
        self.assertEqual(self.execute_ok(self.http, "DELETE FROM t WHERE v = ?", ["newer"])["rows_affected"], 1)
        self.assertEqual(self.as_owner("SELECT count(*) FROM t WHERE v = 'newer'"), [("0",)])


class BalancingCaddy(Caddy):
    """Caddy spreading requests over several monolite processes. A passive health check takes an
    upstream out for fail_duration after one failed request, so a dead process is skipped."""

    def __init__(self, workdir, upstream_ports):
        super().__init__(workdir, upstream_ports[0])
        self.upstream_ports = list(upstream_ports)

    def site_directives(self):
        upstreams = " ".join(f"{HOST}:{port}" for port in self.upstream_ports)
        return (f"\treverse_proxy {upstreams} {{\n"
                "\t\tlb_policy round_robin\n"
                "\t\tlb_try_duration 5s\n"
                "\t\tlb_try_interval 50ms\n"
                "\t\tfail_duration 30s\n"
                "\t\tmax_fails 1\n"
                "\t\ttransport http {\n\t\t\tdial_timeout 1s\n\t\t}\n"
                "\t}\n")


class TwoProcessesBehindCaddyTest(ServerTestCase):
    """Both processes write through Caddy; one is killed with SIGKILL mid-load."""

    def setUp(self):
        super().setUp()
        self.workdir = self.make_tempdir()
        pg = postgres.shared_server()
        self.url = pg.url(pg.new_database())
        # No primary key: a request Caddy sent twice would show as a duplicate id.
        postgres.psql_at(self.url, "CREATE TABLE load(id bigint NOT NULL, writer integer NOT NULL, "
                                   "seq integer NOT NULL)")
        self.first = self.start_server(db_path=self.url, workdir=self.workdir)
        self.second = self.start_server(db_path=self.url, workdir=self.workdir)
        self.caddy = BalancingCaddy(self.workdir, [self.first.port, self.second.port]).start()
        self.addCleanup(self.caddy.stop)

    def run_load(self, first_writer, until):
        load = WriteLoad(self.caddy.port, WRITERS, first_writer=first_writer, duration_s=120).start()
        try:
            until(load)
        finally:
            load.stop()
            load.join(60)
        return load

    def wait_acked(self, load, count):
        self.assertTrue(wait_until(lambda: load.acked_count() >= count, 60),
                        f"writes stalled at {load.acked_count()}; caddy log:\n{self.caddy.log_tail()}")

    def test_a_killed_process_loses_no_acknowledged_write(self):
        before = self.run_load(0, lambda load: self.wait_acked(load, ACKED_BEFORE_KILL))
        self.assertEqual(before.failures(), [])
        self.assertEqual([s for s in before.statuses() if s[0] != 200], [], self.caddy.log_tail())
        self.assert_both_served_and_agree(before.acked())

        def kill_mid_load(load):
            self.wait_acked(load, ACKED_BEFORE_KILL)
            self.first.kill9()
            self.wait_acked(load, load.acked_count() + ACKED_AFTER_KILL)

        during = self.run_load(WRITERS, kill_mid_load)
        self.assertEqual(during.failures(), [], "Caddy answers for a dead upstream; it does not drop the connection")
        acked = before.acked() | during.acked()
        survivor = self.client(self.second)
        stored = read_load_ids(survivor)
        self.assertEqual(acked - stored, set(), "acknowledged writes lost")
        in_postgres = [int(row[0]) for row in postgres.psql_at(self.url, "SELECT id FROM load")]
        self.assertEqual(len(in_postgres), len(set(in_postgres)), "an insert ran twice")
        self.assertEqual(set(in_postgres), stored)
        failed = [s for s in during.statuses() if s[0] != 200]
        self.assertTrue(all(status in (502, 503) for status, _ in failed), failed)

    def assert_both_served_and_agree(self, acked):
        direct = [self.client(self.first), self.client(self.second)]
        for server in (self.first, self.second):
            served = metric_total(self.client(server).get("/metrics").raw.decode(), "monolite_http_requests_total")
            self.assertGreater(served, ACKED_BEFORE_KILL / 4, "round robin did not reach both processes")
        ids = [read_load_ids(client) for client in direct]
        self.assertEqual(ids[0], ids[1], "the two processes read different tables")
        self.assertEqual(acked - ids[0], set())


class SessionSettingsTest(ServerTestCase):
    """A request cannot change the session of the pooled connection the next request runs on
    (one connection, so every request meets the same one)."""

    def test_a_set_does_not_outlive_its_request(self):
        server = self.start_server("--pg-pool", "1", db_path=postgres.new_shared_database_url())
        http = self.client(server)
        baseline = {name: self.query_value(http, f"SHOW {name}") for name in ("TimeZone", "statement_timeout")}
        self.assertEqual(baseline["TimeZone"], "UTC")
        for sql in ("SET TimeZone = 'America/New_York'", "SET statement_timeout = 0",
                    "SET SESSION statement_timeout = 0"):
            with self.subTest(sql=sql):
                resp = http.execute(sql)
                if resp.status != 200:
                    self.assert_json_response(resp, resp.status)
                for name, value in baseline.items():
                    self.assertEqual(self.query_value(http, f"SHOW {name}"), value, f"{sql} outlived its request")
                    self.assertEqual(self.assert_ok(http.batch([stmt(f"SHOW {name}")]))["results"][0]["rows"],
                                     [[value]], f"{sql} outlived its request")


class ReadinessFollowsPostgresTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = start_private_postgres(cls)

    def readyz_status(self, client):
        return client.get("/readyz").status

    def test_readyz_is_503_while_postgres_is_down(self):
        server = self.start_server(db_path=self.pg.url(self.pg.new_database()))
        http = self.client(server, timeout=10)
        pid = server.proc.pid
        # The engine connects in the background: ready once its first connection is up.
        self.assertTrue(wait_until(lambda: self.readyz_status(http) == 200, OUTAGE_TIMEOUT_S), server.log_tail())
        self.pg.halt()
        self.assertTrue(wait_until(lambda: self.readyz_status(http) == 503, OUTAGE_TIMEOUT_S),
                        f"/readyz still {self.readyz_status(http)} with PostgreSQL down")
        body = self.assert_json_response(http.get("/readyz"), 503)
        self.assertIsInstance(body, dict)
        self.assertEqual(self.assert_ok(http.get("/healthz")), {"status": "ok"}, "liveness is not readiness")
        self.pg.resume()
        self.assertTrue(wait_until(lambda: self.readyz_status(http) == 200, OUTAGE_TIMEOUT_S),
                        f"/readyz still {self.readyz_status(http)} with PostgreSQL back; log:\n{server.log_tail()}")
        self.assertTrue(server.running())
        self.assertEqual(server.proc.pid, pid)
        self.assertEqual(self.query_rows(http, "SELECT 1"), [[1]])


def hrana_execute(sql):
    return {"type": "execute", "stmt": {"sql": sql}}


class PostgresDifferencesTest(ServerTestCase):
    """Rows of docs/api.md's difference table that no shared module shows."""

    def setUp(self):
        super().setUp()
        self.server = self.start_server(db_path=postgres.new_shared_database_url())
        self.http = self.client(self.server)

    def test_values_come_back_as_postgresql_prints_them(self):
        body = self.assert_ok(self.http.query(
            "SELECT 1 + 1, TIMESTAMPTZ '2024-01-02 03:04:05+02' AS at, DATE '2024-01-02' AS d, "
            "'7f000001-0000-4000-8000-000000000000'::uuid AS u, '{\"a\": 1}'::jsonb AS j, 1.50::numeric AS n, "
            "true AS b, INTERVAL '90 minutes' AS i"))
        self.assertEqual(body["columns"], ["?column?", "at", "d", "u", "j", "n", "b", "i"])
        self.assertEqual(body["rows"], [[2, "2024-01-02 01:04:05+00", "2024-01-02",
                                         "7f000001-0000-4000-8000-000000000000", '{"a": 1}', "1.50", True,
                                         "01:30:00"]])

    def test_a_failed_statement_aborts_the_streams_transaction_until_rollback(self):
        self.execute_ok(self.http, "CREATE TABLE a(id bigint PRIMARY KEY)")
        first = self.assert_ok(self.http.post_json("/v2/pipeline", {"baton": None, "requests": [
            hrana_execute("BEGIN"), hrana_execute("INSERT INTO a VALUES (1)"), hrana_execute("INSERT INTO a VALUES (1)"),
            hrana_execute("SELECT 1")]}))
        kinds = [r["type"] for r in first["results"]]
        self.assertEqual(kinds, ["ok", "ok", "error", "error"])
        self.assertIn("current transaction is aborted", first["results"][3]["error"]["message"])
        second = self.assert_ok(self.http.post_json("/v2/pipeline", {"baton": first["baton"], "requests": [
            hrana_execute("ROLLBACK"), hrana_execute("SELECT count(*) FROM a"), {"type": "close"}]}))
        self.assertEqual([r["type"] for r in second["results"]], ["ok", "ok", "ok"])
        self.assertEqual(second["results"][1]["response"]["result"]["rows"], [[{"type": "integer", "value": "0"}]])

    def test_sqlite_begin_forms_run_as_postgresql_begin(self):
        self.execute_ok(self.http, "CREATE TABLE b(id bigint PRIMARY KEY)")
        for begin in ("BEGIN DEFERRED", "BEGIN IMMEDIATE", "BEGIN EXCLUSIVE TRANSACTION"):
            with self.subTest(begin=begin):
                body = self.assert_ok(self.http.post_json("/v2/pipeline", {"baton": None, "requests": [
                    hrana_execute(begin), hrana_execute(f"INSERT INTO b VALUES ({len(begin)})"),
                    hrana_execute("COMMIT"), {"type": "close"}]}))
                self.assertEqual([r["type"] for r in body["results"]], ["ok", "ok", "ok", "ok"], body)
        read = self.assert_ok(self.http.post_json("/v2/pipeline", {"baton": None, "requests": [
            hrana_execute("BEGIN TRANSACTION READONLY"), hrana_execute("INSERT INTO b VALUES (1)"),
            hrana_execute("ROLLBACK"), {"type": "close"}]}))
        self.assertEqual(read["results"][1]["type"], "error")
        self.assertIn("read-only", read["results"][1]["error"]["message"])
        self.assertEqual(self.query_rows(self.http, "SELECT count(*) FROM b"), [[3]])

    def test_what_only_sqlite_has_is_not_served(self):
        for path in ("/admin/read-only", "/admin/snapshot"):
            with self.subTest(path=path):
                self.assert_error(self.http.post_json(path, {"read_only": True}), 404, "NOT_FOUND")
        url = postgres.new_shared_database_url()
        for flags in (["--replica", "file:///tmp/nowhere"], ["--read-only"]):
            with self.subTest(flags=flags):
                done = run_cli(["serve", "--db", url, "--listen", f"{HOST}:0", *flags])
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertIn("needs a SQLite --db", done.stderr)


if __name__ == "__main__":
    unittest.main()
