"""`monolite move` against a real PostgreSQL 15: a fixture with every type, constraint and index
form moves and verifies; mismatches are reported; a killed move leaves the target as it was;
--verify-only sees a changed row; an existing table is refused unless --replace; a move while
`monolite serve` writes copies one consistent state; a bad URL exits 3."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import unittest

import postgres
from harness import Client, binary_path, child_env, launch_server, stmt, wait_until

MOVE_TIMEOUT_S = 240
BIG_ROWS = 1_000_000


def make_fixture(path, big_rows=1000):
    db = sqlite3.connect(path)
    db.executescript(f"""
        CREATE TABLE teams(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT COLLATE NOCASE UNIQUE NOT NULL);
        CREATE TABLE users(id INTEGER PRIMARY KEY, team_id INTEGER REFERENCES teams(id), email TEXT NOT NULL,
          age INT CHECK (age >= 0), active BOOLEAN DEFAULT 1, created DATETIME DEFAULT CURRENT_TIMESTAMP,
          birthday DATE, meta JSON, score REAL, price NUMERIC(10,2), pic BLOB, nick VARCHAR(8), raw,
          CHECK (length(email) > 2));
        CREATE INDEX users_active ON users(team_id) WHERE active = 1;
        CREATE INDEX users_lower_email ON users(lower(email));
        CREATE TABLE pairs(a TEXT, b INTEGER, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
        CREATE TABLE big(id INTEGER PRIMARY KEY, n INTEGER, s TEXT, r REAL);
        CREATE VIEW team_sizes AS SELECT team_id, count(*) AS n FROM users GROUP BY team_id;
        CREATE VIEW user_years AS SELECT id, strftime('%Y', created) AS y FROM users;
        CREATE TRIGGER users_touch AFTER UPDATE ON users BEGIN SELECT 1; END;
        INSERT INTO teams(name) VALUES ('abc'), ('Core');
        INSERT INTO pairs VALUES ('x', 1, 'one'), ('x', 2, NULL), ('y', -9223372036854775808, 'min');
        WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < {big_rows})
          INSERT INTO big SELECT i, i * 7, 'row ' || i, i / 3.0 FROM c;
    """)
    rows = [
        (1, 1, "a@x.org", 30, 1, "2024-02-29 23:59:59", "2024-02-29", '{"b": [1, 2.5], "a": null}', -0.0, 12.5,
         b"\x00\x01\x00", "short", b"\x00"),
        (2, 2, "ünïcødé 😀", 0, 0, "1999-12-31T10:00:00.123", None, "[]", 1e300, -3, b"", "", None),
        (3, None, "tab\there\nnewline\\back", None, None, None, "2000-01-01", None, 9.5e-300, None, None, None, None),
        (9223372036854775807, 1, "max@x", 1, 1, "2024-01-01 00:00", None, "1", -1e300, 99999999.99, b"\xff" * 3,
         None, b"raw"),
    ]
    db.executemany("INSERT INTO users(id, team_id, email, age, active, created, birthday, meta, score, price, pic, "
                   "nick, raw) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.execute("INSERT INTO users(id, email) VALUES (-9223372036854775808, 'min@x')")
    db.commit()
    db.close()


class MoveTestCase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Never skipped: scripts/deps.sh test installs PostgreSQL 15, and a missing one is a failure.
        assert postgres.available(), "PostgreSQL 15 is not installed (scripts/deps.sh test installs it)"
        cls.pg = postgres.PostgresServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="monolite-move-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.database = self.pg.new_database()
        self.url = self.pg.url(self.database)
        self.db_path = os.path.join(self.dir, "app.db")

    def move(self, *extra, db_path=None, url=None):
        done = subprocess.run([binary_path(), "move", "--db", db_path or self.db_path, "--to", url or self.url,
                               "--json", *extra], env=child_env(), capture_output=True, text=True,
                              timeout=MOVE_TIMEOUT_S, stdin=subprocess.DEVNULL)
        summary = json.loads(done.stdout) if done.stdout.strip() else None
        return done.returncode, summary, done.stderr

    def sql(self, query):
        return self.pg.psql(self.database, query)


class TestMove(MoveTestCase):
    def test_fixture_moves_verifies_and_keeps_its_constraints(self):
        make_fixture(self.db_path)
        code, summary, err = self.move()
        self.assertEqual(code, 0, err)
        self.assertTrue(summary["verify"]["ok"])
        self.assertEqual({t["name"]: t["rows"] for t in summary["tables"]},
                         {"teams": 2, "users": 5, "pairs": 3, "big": 1000})
        untranslated = {(u["kind"], u["name"]) for u in summary["untranslated"]}
        self.assertIn(("trigger", "users_touch"), untranslated)
        self.assertIn(("view", "view user_years"), untranslated)  # strftime exists only in SQLite
        self.assertEqual(self.sql("SELECT n FROM team_sizes WHERE team_id = 1"), [("2",)])
        self.assertEqual(self.sql("SELECT email, meta::text, price::text, encode(pic, 'hex') FROM users WHERE id = 1"),
                         [("a@x.org", '{"a": null, "b": [1, 2.5]}', "12.50", "000100")])
        self.assertEqual(self.sql("SELECT encode(convert_to(email, 'UTF8'), 'hex') FROM users WHERE id = 3"),
                         [("tab\there\nnewline\\back".encode().hex(),)])
        # identity continues after the maximum, AUTOINCREMENT's sequence too
        self.assertEqual(self.sql("INSERT INTO big(n) VALUES (0) RETURNING id"), [("1001",)])
        self.assertEqual(self.sql("INSERT INTO teams(name) VALUES ('new') RETURNING id"), [("3",)])
        # COLLATE NOCASE UNIQUE refuses 'ABC' after 'abc'; the foreign key and the CHECKs hold
        for refused in ["INSERT INTO teams(name) VALUES ('ABC')", "INSERT INTO users(id, team_id, email) VALUES (50, 77, 'fk@x')",
                        "INSERT INTO users(id, email, age) VALUES (51, 'neg@x', -1)",
                        "INSERT INTO users(id, email) VALUES (52, 'ab')"]:
            done = self.pg.psql(self.database, refused, check=False)
            self.assertNotEqual(done.returncode, 0, refused)
        kinds = dict(self.sql("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'users'"))
        self.assertEqual(kinds["active"], "boolean")
        self.assertEqual(kinds["created"], "timestamp without time zone")
        self.assertEqual(kinds["meta"], "jsonb")
        self.assertEqual(kinds["raw"], "bytea")
        self.assertEqual(self.sql("SELECT indexdef FROM pg_indexes WHERE indexname IN ('users_active', 'users_lower_email') "
                                  "ORDER BY 1"),
                         [("CREATE INDEX users_lower_email ON public.users USING btree (lower(email))",)])
        # WHERE active = 1 compares a boolean with an integer: PostgreSQL refuses, and it is reported
        self.assertIn(("index", "index users_active"), untranslated)
        self.assertEqual(self.sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'monolite_move_%'"), [("0",)])

    def test_mismatches_are_reported_and_nothing_is_written(self):
        make_fixture(self.db_path, big_rows=10)
        db = sqlite3.connect(self.db_path)
        db.execute("INSERT INTO users(id, email, age, active, meta, created) VALUES "
                   "(100, 'bad@x', 'old', 2, '{not json', 1700000000)")
        db.execute("INSERT INTO big VALUES (500, 'seven', 'x', 1.5)")  # in a table after the first one that misfits
        db.commit()
        db.close()
        code, summary, err = self.move()
        self.assertEqual(code, 1, err)
        found = {(m["table"], m["key"], m["column"], m["value"]) for m in summary["mismatches"]}
        self.assertEqual(found, {("users", "rowid 100", "age", "'old'"), ("users", "rowid 100", "active", "2"),
                                 ("users", "rowid 100", "meta", "'{not json'"),
                                 ("users", "rowid 100", "created", "1700000000"), ("big", "rowid 500", "n", "'seven'")})
        self.assertEqual(summary["mismatch_count"], 5)
        self.assertEqual(self.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"), [("0",)])
        self.assertEqual(self.sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'monolite_move_%'"), [("0",)])
        code, summary, err = self.move("--on-mismatch", "text")
        self.assertEqual(code, 0, err)
        self.assertEqual(sorted(summary["columns_as_text"]), ["big.n (bigint)", "users.active (boolean)",
                                                             "users.age (bigint)", "users.created (timestamp)",
                                                             "users.meta (jsonb)"])
        self.assertEqual(self.sql("SELECT age, active, created FROM users WHERE id = 100"), [("old", "2", "1700000000")])
        code, summary, err = self.move("--verify-only")
        self.assertEqual(code, 0, err)

    def test_verify_only_finds_a_row_changed_in_postgres(self):
        make_fixture(self.db_path, big_rows=10)
        self.assertEqual(self.move()[0], 0)
        self.assertEqual(self.move("--verify-only")[0], 0)
        self.sql("UPDATE big SET s = 'changed' WHERE id = 7")
        code, summary, err = self.move("--verify-only")
        self.assertEqual(code, 1, err)
        self.assertFalse(summary["verify"]["ok"])
        rows = {(d["table"], d["side"], d["row"]) for d in summary["verify"]["differences"]}
        self.assertEqual(rows, {("big", "sqlite", "key (7) row (7, 49, 'row 7', 2.3333333333333335)"),
                                ("big", "postgres", "7\t49\tchanged\t2.3333333333333335")})

    def test_existing_table_is_refused_unless_replace(self):
        make_fixture(self.db_path, big_rows=10)
        self.sql("CREATE TABLE big(x int); INSERT INTO big VALUES (1)")
        code, summary, err = self.move()
        self.assertEqual(code, 3)
        self.assertIn("already has big", err)
        self.assertEqual(self.sql("SELECT x FROM big"), [("1",)])
        code, summary, err = self.move("--replace")
        self.assertEqual(code, 0, err)
        self.assertEqual(self.sql("SELECT count(*) FROM big"), [("10",)])

    def test_bad_url_and_unreachable_server_exit_3(self):
        make_fixture(self.db_path, big_rows=1)
        for url in ["postgres://nobody@127.0.0.1:1/none", "not a url=="]:
            code, _, err = self.move(url=url)
            self.assertEqual(code, 3, url)
            self.assertIn("cannot connect to PostgreSQL", err)
        done = subprocess.run([binary_path(), "move", "--db", self.db_path], capture_output=True, text=True,
                              env=child_env(), timeout=30)
        self.assertEqual(done.returncode, 2)


class TestMoveKilled(MoveTestCase):
    def test_killed_move_leaves_the_target_and_a_rerun_succeeds(self):
        make_fixture(self.db_path, big_rows=BIG_ROWS)
        self.sql("CREATE TABLE keep(x int); INSERT INTO keep VALUES (42)")
        proc = subprocess.Popen([binary_path(), "move", "--db", self.db_path, "--to", self.url], env=child_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            copying = wait_until(lambda: self.sql(
                "SELECT count(*) FROM pg_stat_progress_copy WHERE tuples_processed > 0")[0][0] != "0" or proc.poll() is not None, 60, interval=0.01)
            self.assertTrue(copying and proc.poll() is None, "the copy never started, or ended first")
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
        self.assertEqual(self.sql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"), [("keep",)])
        self.assertEqual(self.sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'monolite_move_%'"), [("1",)])
        code, summary, err = self.move()
        self.assertEqual(code, 0, err)
        self.assertEqual(self.sql("SELECT count(*) FROM big"), [(str(BIG_ROWS),)])
        self.assertEqual(self.sql("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'monolite_move_%'"), [("0",)])
        rows = summary["totals"]["rows"]
        print(f"\nmove: {rows} rows, {summary['totals']['rows_per_second']:.0f} rows/s, "
              f"{summary['totals']['mb_per_second']:.1f} MB/s over {summary['totals']['seconds']:.2f} s")


class TestMoveWhileServing(MoveTestCase):
    def test_move_copies_one_consistent_state_while_the_server_writes(self):
        db = sqlite3.connect(self.db_path)
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript("CREATE TABLE a(id INTEGER PRIMARY KEY, n INTEGER); CREATE TABLE b(id INTEGER PRIMARY KEY, n INTEGER);"
                         "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 200000) "
                         "INSERT INTO a SELECT i, 0 FROM c; INSERT INTO b SELECT id, n FROM a;")
        db.close()
        server = launch_server(self.dir, db_path=self.db_path)
        self.addCleanup(server.stop)
        stop = threading.Event()
        writes = []

        def write():
            client = Client(server.port)
            while not stop.is_set():
                r = client.batch([stmt("UPDATE a SET n = n + 1 WHERE id % 1000 = 0"),
                                  stmt("UPDATE b SET n = n + 1 WHERE id % 1000 = 0")])
                writes.append(r.status)
            client.close()

        writer = threading.Thread(target=write)
        writer.start()
        try:
            self.assertTrue(wait_until(lambda: len(writes) >= 3, 30))
            code, summary, err = self.move()
        finally:
            stop.set()
            writer.join(30)
        self.assertEqual(code, 0, err)
        self.assertEqual(set(writes), {200})
        self.assertEqual(self.sql("SELECT count(*) FROM a JOIN b USING (id) WHERE a.n <> b.n"), [("0",)])
        self.assertNotEqual(self.sql("SELECT max(n) FROM a"), [("0",)])


if __name__ == "__main__":
    unittest.main()
