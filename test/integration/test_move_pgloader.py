"""`monolite move` next to Debian's pgloader (3.6.7~devel in bookworm): one fixture through both
into two databases of the same PostgreSQL 15. The rows are the same; every difference is asserted
exactly (the types pgloader picks, the constraints and behaviours it drops), and `monolite move
--verify-only` against pgloader's copy names the rows whose values changed. The inputs where
pgloader loses rows or stops, and monolite does not, are asserted too."""

import os
import shutil
import sqlite3
import subprocess
import unittest

from test_move import MoveTestCase

PGLOADER_TIMEOUT_S = 120


def make_portable_fixture(path):
    """The test_move fixture without what pgloader cannot load (see TestPgloaderLimits)."""
    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE teams(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT COLLATE NOCASE UNIQUE NOT NULL);
        CREATE TABLE users(id INTEGER PRIMARY KEY, team_id INTEGER REFERENCES teams(id), email TEXT NOT NULL,
          age INT CHECK (age >= 0), active BOOLEAN DEFAULT 1, created DATETIME, birthday DATE, meta JSON,
          score REAL, price NUMERIC(10,2), pic BLOB, nick VARCHAR(8), raw);
        CREATE INDEX users_active ON users(team_id) WHERE active = 1;
        CREATE TABLE pairs(a TEXT, b INTEGER, v TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
        CREATE TABLE big(id INTEGER PRIMARY KEY, n INTEGER, s TEXT);
        CREATE VIEW team_sizes AS SELECT team_id, count(*) AS n FROM users GROUP BY team_id;
        INSERT INTO teams(name) VALUES ('abc'), ('Core');
        INSERT INTO pairs VALUES ('x', 1, 'one'), ('x', 2, NULL), ('y', 3, 'three');
        WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100)
          INSERT INTO big SELECT i, i * 7, 'row ' || i FROM c;
    """)
    rows = [
        (1, 1, "a@x.org", 30, 1, "2024-02-29 23:59:59", "2024-02-29", '{"b": [1, 2.5], "a": null}', 0.1, 12.5,
         b"\x00\x01\x00", "short", b"\x01raw"),
        (2, 2, "ünïcødé 😀", 0, 0, "1999-12-31T10:00:00.123", None, "[]", 2.5, -3, b"", "", None),
        (3, None, "tab\there\nnewline\\back", None, None, None, "2000-01-01", None, None, None, None, None, None),
    ]
    db.executemany("INSERT INTO users VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.commit()
    db.close()


# The values both copies hold, with the known type differences cast away (json → jsonb, real →
# float4, timestamptz → its UTC text, text → bytea).
COMMON_VALUES = ("SELECT id, team_id, email, age, active, to_char(created, 'YYYY-MM-DD HH24:MI:SS.US'), birthday, "
                 "meta::jsonb, score::float4, price, encode(pic, 'hex'), nick FROM users ORDER BY id")


class PgloaderTestCase(MoveTestCase):
    @classmethod
    def setUpClass(cls):
        # Never skipped: scripts/deps.sh test installs pgloader, and a missing one is a failure.
        assert shutil.which("pgloader"), "pgloader is not installed (scripts/deps.sh test installs it)"
        super().setUpClass()

    def setUp(self):
        super().setUp()
        self.loaded = self.pg.new_database()

    def pgloader(self, db_path=None):
        return subprocess.run(["pgloader", "--root-dir", os.path.join(self.dir, "pgloader"), db_path or self.db_path,
                               self.pg.url(self.loaded)], capture_output=True, text=True, timeout=PGLOADER_TIMEOUT_S,
                              stdin=subprocess.DEVNULL)

    def both(self, query):
        return self.sql(query), self.pg.psql(self.loaded, query)

    def columns(self, database, table):
        return {name: (kind, length, precision, scale, nullable) for name, kind, length, precision, scale, nullable in
                self.pg.psql(database, "SELECT column_name, data_type, character_maximum_length, numeric_precision, "
                             f"numeric_scale, is_nullable FROM information_schema.columns WHERE table_name = '{table}'")}


class TestMoveBesidePgloader(PgloaderTestCase):
    def setUp(self):
        super().setUp()
        make_portable_fixture(self.db_path)
        code, summary, err = self.move()
        self.assertEqual(code, 0, err)
        self.assertTrue(summary["verify"]["ok"])
        loaded = self.pgloader()
        self.assertEqual(loaded.returncode, 0, loaded.stdout + loaded.stderr)

    def test_same_rows_and_values_once_the_type_differences_are_cast_away(self):
        for table in ("teams", "users", "pairs", "big"):
            ours, theirs = self.both(f"SELECT count(*) FROM {table}")
            self.assertEqual(ours, theirs, table)
        for query in (COMMON_VALUES, "SELECT * FROM teams ORDER BY id", "SELECT * FROM pairs ORDER BY a, b",
                      "SELECT * FROM big ORDER BY id"):
            ours, theirs = self.both(query)
            self.assertEqual(ours, theirs, query)
        self.assertEqual(self.sql("SELECT count(*) FROM users"), [("3",)])

    def test_the_types_pgloader_picks(self):
        ours, theirs = self.columns(self.database, "users"), self.columns(self.loaded, "users")
        self.assertEqual(ours, {
            "id": ("bigint", None, "64", "0", "NO"), "team_id": ("bigint", None, "64", "0", "YES"),
            "email": ("text", None, None, None, "NO"), "age": ("bigint", None, "64", "0", "YES"),
            "active": ("boolean", None, None, None, "YES"),
            "created": ("timestamp without time zone", None, None, None, "YES"),
            "birthday": ("date", None, None, None, "YES"), "meta": ("jsonb", None, None, None, "YES"),
            "score": ("double precision", None, "53", None, "YES"), "price": ("numeric", None, "10", "2", "YES"),
            "pic": ("bytea", None, None, None, "YES"), "nick": ("character varying", "8", None, None, "YES"),
            "raw": ("bytea", None, None, None, "YES")})
        self.assertEqual(theirs, {
            "id": ("bigint", None, "64", "0", "NO"), "team_id": ("bigint", None, "64", "0", "YES"),
            "email": ("text", None, None, None, "YES"),  # NOT NULL dropped
            "age": ("integer", None, "32", "0", "YES"),  # INT is 64-bit in SQLite
            "active": ("boolean", None, None, None, "YES"),
            "created": ("timestamp with time zone", None, None, None, "YES"),
            "birthday": ("date", None, None, None, "YES"), "meta": ("json", None, None, None, "YES"),
            "score": ("real", None, "24", None, "YES"),  # REAL is 8 bytes in SQLite, 4 in PostgreSQL
            "price": ("numeric", None, "10", "2", "YES"), "pic": ("bytea", None, None, None, "YES"),
            "nick": ("text", None, None, None, "YES"),  # the length limit dropped
            "raw": ("text", None, None, None, "YES")})  # no declared type: text, blobs stored as their bytes
        ours, theirs = self.both("SELECT score::float8::text, meta::text, encode(convert_to(raw::text, 'UTF8'), 'hex') "
                                 "FROM users WHERE id = 1")
        self.assertEqual(ours, [("0.1", '{"a": null, "b": [1, 2.5]}', "5c783031373236313737")])  # bytea's \x01726177
        self.assertEqual(theirs, [("0.10000000149011612", '{"b": [1, 2.5], "a": null}', "01726177")])

    def test_constraints_and_behaviours_pgloader_drops(self):
        def refused(database, statement):
            return self.pg.psql(database, statement, check=False).returncode != 0

        for statement in ("INSERT INTO teams(name) VALUES ('ABC')",  # COLLATE NOCASE UNIQUE
                          "INSERT INTO users(id, email, age) VALUES (50, 'neg@x', -1)"):  # CHECK (age >= 0)
            self.assertTrue(refused(self.database, statement), statement)
            self.assertFalse(refused(self.loaded, statement), statement)
        # INTEGER PRIMARY KEY: an identity for us, a plain bigint for pgloader; AUTOINCREMENT a sequence for both
        self.assertEqual(self.sql("INSERT INTO big(n) VALUES (0) RETURNING id"), [("101",)])
        self.assertTrue(refused(self.loaded, "INSERT INTO big(n) VALUES (0)"))
        # 4 on both: our refused 'ABC' took 3 from the sequence too (nextval runs before the unique check)
        self.assertEqual(self.both("INSERT INTO teams(name) VALUES ('later') RETURNING id"), ([("4",)], [("4",)]))
        # the partial index: pgloader builds it without its WHERE; PostgreSQL refuses ours (boolean = 1), reported
        self.assertEqual(self.sql("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%users_active'"), [("0",)])
        (definition,), = self.pg.psql(self.loaded, "SELECT indexdef FROM pg_indexes WHERE indexname LIKE '%users_active'")
        self.assertRegex(definition, r"^CREATE INDEX idx_\d+_users_active ON public.users USING btree \(team_id\)$")
        ours, theirs = self.both("SELECT table_name FROM information_schema.views WHERE table_schema = 'public'")
        self.assertEqual((ours, theirs), ([("team_sizes",)], []))  # pgloader moves no views
        ours, theirs = self.both("SELECT conname FROM pg_constraint WHERE contype = 'f'")
        self.assertEqual((ours, theirs), ([("users_team_id_fkey",)], [("users_team_id_fkey",)]))

    def test_verify_only_against_pgloaders_copy_names_the_changed_rows(self):
        code, summary, _ = self.move("--verify-only", "--schema", "public", url=self.pg.url(self.loaded))
        self.assertEqual(code, 1)
        differences = summary["verify"]["differences"]
        self.assertEqual({d["table"] for d in differences}, {"users"})
        # rows 1 and 2: created is timestamptz ("+00"), row 1's raw is text; row 3 holds neither
        self.assertEqual(sorted((d["side"], d["row"].split("\t")[0]) for d in differences if d["side"] == "postgres"),
                         [("postgres", "1"), ("postgres", "2")])
        self.assertEqual(sorted(d["row"][:8] for d in differences if d["side"] == "sqlite"), ["key (1) ", "key (2) "])


class TestPgloaderLimits(PgloaderTestCase):
    """Inputs where pgloader loses rows (exiting 0) or stops, and monolite moves and verifies all."""

    def check(self, script, params, expect_code, expect_rows):
        db = sqlite3.connect(self.db_path)
        db.executescript(script)
        db.executemany("INSERT INTO t VALUES (?, ?)", params)
        db.commit()
        db.close()
        code, summary, err = self.move()
        self.assertEqual(code, 0, err)
        self.assertTrue(summary["verify"]["ok"])
        self.assertEqual(self.sql("SELECT count(*) FROM t"), [(str(len(params)),)])
        loaded = self.pgloader()
        self.assertEqual(loaded.returncode, expect_code, loaded.stdout + loaded.stderr)
        self.assertEqual(self.pg.psql(self.loaded, "SELECT count(*) FROM t"), [(str(expect_rows),)])

    def test_integers_beyond_62_bits_drop_their_rows(self):
        # SBCL's fixnums are 62-bit: the row is logged as an error and left out
        self.check("CREATE TABLE t(id INTEGER PRIMARY KEY, n INTEGER)", [(1, 2**62 - 1), (2, 2**62), (3, -2**63)], 0, 1)

    def test_a_nul_byte_in_an_untyped_column_loses_the_whole_batch(self):
        # no declared type becomes text; the blob's bytes go in as text and COPY refuses 0x00
        self.check("CREATE TABLE t(id INTEGER PRIMARY KEY, raw)", [(1, b"A"), (2, b"\x00")], 0, 0)

    def test_an_expression_index_stops_pgloader_after_the_data(self):
        self.check("CREATE TABLE t(id INTEGER PRIMARY KEY, email TEXT); CREATE INDEX t_lower ON t(lower(email))",
                   [(1, "A@x")], 1, 1)
        self.assertEqual(self.sql("SELECT indexdef FROM pg_indexes WHERE indexname = 't_lower'"),
                         [("CREATE INDEX t_lower ON public.t USING btree (lower(email))",)])


if __name__ == "__main__":
    unittest.main()
