"""Mapping between JSON values and database values, through every route (SQLite, or PostgreSQL
with MONOLITE_TEST_ENGINE=postgres: its differences are in docs/api.md and asserted here)."""

import base64
import unittest

from harness import ON_POSTGRES, SharedServerTestCase, expected_last_insert_id, stmt

INT64_MAX = 9223372036854775807
INT64_MIN = -9223372036854775808


def blob(data):
    return {"base64": base64.b64encode(data).decode("ascii")}


# (label, JSON value, SQLite typeof() of the bound value)
VALUES = [
    ("null", None, "null"),
    ("zero", 0, "integer"),
    ("one", 1, "integer"),
    ("minus one", -1, "integer"),
    ("int64 max", INT64_MAX, "integer"),
    ("int64 min", INT64_MIN, "integer"),
    ("2^53 + 1", 2**53 + 1, "integer"),
    ("-(2^53 + 1)", -(2**53 + 1), "integer"),
    ("float", 3.5, "real"),
    ("negative float", -0.25, "real"),
    ("float with zero fraction", 2.0, "real"),
    ("tenth", 0.1, "real"),
    ("huge float", 1.7976931348623157e308, "real"),
    ("tiny float", 5e-324, "real"),
    ("string", "hello", "text"),
    ("empty string", "", "text"),
    ("unicode", "h\u00e9llo w\u00f6rld \u2713 \u65e5\u672c\u8a9e \U0001f389", "text"),
    ("escapes", "quote\" backslash\\ newline\n tab\t \x01 \x1f \x7f \u2028", "text"),
    ("numeric-looking string", "12345", "text"),
    ("blob", blob(bytes(range(256))), "blob"),
    ("zero-byte blob", blob(b"\x00\x00\x00"), "blob"),
    ("empty blob", blob(b""), "blob"),
]

# PostgreSQL has no typeof() and no column of any type: pg_typeof() names what a parameter was bound
# as, and each type of value is stored in a column of that type.
POSTGRES_TYPE = {"null": "text", "integer": "bigint", "real": "double precision", "text": "text", "blob": "bytea"}
POSTGRES_VALUE_COLUMNS = "v_null text, v_integer bigint, v_real double precision, v_text text, v_blob bytea"


def type_of(expr):
    return f"pg_typeof({expr})::text" if ON_POSTGRES else f"typeof({expr})"


def typed_reference(sqlite_type):
    """?1 as type_of() may take it: PostgreSQL cannot type an untyped (text or null) parameter by itself."""
    return "?1::text" if ON_POSTGRES and sqlite_type in ("null", "text") else "?1"


def bound_type(sqlite_type):
    """What type_of() gives for a value SQLite's typeof() calls `sqlite_type`."""
    return POSTGRES_TYPE[sqlite_type] if ON_POSTGRES else sqlite_type


def value_column(sqlite_type):
    """The column of a values table (values_table_sql) a value of that type goes in."""
    return f"v_{sqlite_type}" if ON_POSTGRES else "v"


def values_table_sql(name, key):
    if ON_POSTGRES:
        return f"CREATE TABLE {name}({key}, {POSTGRES_VALUE_COLUMNS})"
    return f"CREATE TABLE {name}({key}, v ANY) STRICT"


class ValueRoundTripTest(SharedServerTestCase):
    def assert_same_value(self, got, expected):
        self.assertEqual(got, expected)
        self.assertIs(type(got), type(expected), f"{got!r} vs {expected!r}")

    def test_select_parameter_back(self):
        for label, value, sqlite_type in VALUES:
            with self.subTest(label):
                rows = self.query_rows(self.http, f"SELECT ?, {type_of(typed_reference(sqlite_type))}", [value])
                self.assert_same_value(rows[0][0], value)
                self.assertEqual(rows[0][1], bound_type(sqlite_type))

    def test_untyped_parameter_needs_a_cast_on_postgres(self):
        # Text and null parameters go to PostgreSQL without a type, for it to take the column's
        # (timestamp, uuid, jsonb…); where nothing gives one, the statement fails: write ?::text.
        resp = self.http.query(f"SELECT {type_of('?')}", ["x"])
        if ON_POSTGRES:
            self.assertEqual(self.assert_error(resp, 400, "SQLITE_ERROR")["sqlstate"], "42P18")
            self.assertEqual(self.query_rows(self.http, "SELECT ?::text, pg_typeof(?1::text)::text", ["x"]),
                             [["x", "text"]])
        else:
            self.assertEqual(self.assert_ok(resp)["rows"], [["text"]])

    def test_sql_literals_come_back_as_json(self):
        sql = ("SELECT NULL, 9223372036854775807, -9223372036854775808, 1.5, "
               "'text', x'00ff', x'', -0")
        if ON_POSTGRES:  # x'…' is a bit string there, and 1.5 numeric
            sql = ("SELECT NULL, 9223372036854775807, -9223372036854775808, 1.5::float8, "
                   "'text', '\\x00ff'::bytea, ''::bytea, -0")
        rows = self.query_rows(self.http, sql)
        self.assertEqual(rows, [[None, INT64_MAX, INT64_MIN, 1.5, "text",
                                 blob(b"\x00\xff"), blob(b""), 0]])
        self.assertIs(type(rows[0][1]), int)
        self.assertIs(type(rows[0][2]), int)

    def test_decimal_literals(self):
        # PostgreSQL's decimal literals are numeric, exact, so they come back as text; SQLite's are
        # real (and -9223372036854775808 an integer).
        rows = self.query_rows(self.http, "SELECT 1.5, -9223372036854775808, 12345678901234567890.000000001")
        if ON_POSTGRES:
            self.assertEqual(rows, [["1.5", INT64_MIN, "12345678901234567890.000000001"]])
        else:
            self.assertEqual(rows, [[1.5, INT64_MIN, 12345678901234567890.000000001]])

    def test_store_and_read_back_every_value(self):
        self.execute_ok(self.http, values_table_sql("vals", "label TEXT PRIMARY KEY"))
        self.addCleanup(self.http.execute, "DROP TABLE vals")
        statements = [stmt(f"INSERT INTO vals(label, {value_column(t)}) VALUES (?, ?)", [label, value])
                      for label, value, t in VALUES]
        body = self.assert_ok(self.http.execute_many(statements))
        self.assertEqual(len(body["results"]), len(VALUES))
        for label, value, sqlite_type in VALUES:
            with self.subTest(label):
                column = value_column(sqlite_type)
                sql = f"SELECT {column}, {type_of(column)} FROM vals WHERE label = ?"
                [[got, got_type]] = self.query_rows(self.http, sql, [label])
                self.assert_same_value(got, value)
                self.assertEqual(got_type, bound_type(sqlite_type))

    def test_batch_returns_values_exactly(self):
        self.execute_ok(self.http, values_table_sql("bvals", "id INTEGER PRIMARY KEY" if not ON_POSTGRES else
                                                    "id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"))
        self.addCleanup(self.http.execute, "DROP TABLE bvals")
        statements = [stmt(f"INSERT INTO bvals({value_column(t)}) VALUES (?) RETURNING {value_column(t)}", [value])
                      for _, value, t in VALUES]
        results = self.assert_ok(self.http.batch(statements))["results"]
        for (label, value, _), result in zip(VALUES, results, strict=True):
            with self.subTest(label):
                self.assert_same_value(result["rows"][0][0], value)

    def test_json_booleans_bind_as_sqlite_integers(self):
        # SQLite has no boolean type: true and false are stored and come back as 1 and 0.
        # PostgreSQL's boolean comes back as true and false.
        rows = self.query_rows(self.http, f"SELECT ?1, {type_of('?1')}, ?2, {type_of('?2')}", [True, False])
        if ON_POSTGRES:
            self.assertEqual(rows, [[True, "boolean", False, "boolean"]])
            return
        self.assertEqual(rows, [[1, "integer", 0, "integer"]])
        self.assertIs(type(rows[0][0]), int)

    def test_integer_arithmetic_at_the_limits(self):
        rows = self.query_rows(self.http, "SELECT ? - 1, ? + 1", [INT64_MAX, INT64_MIN])
        self.assertEqual(rows, [[INT64_MAX - 1, INT64_MIN + 1]])

    def test_integer_key_at_int64_max(self):
        # INTEGER is 64 bits in SQLite, 32 in PostgreSQL (bigint is 64 there).
        key_type = "bigint" if ON_POSTGRES else "INTEGER"
        self.execute_ok(self.http, f"CREATE TABLE big(id {key_type} PRIMARY KEY, note TEXT)")
        self.addCleanup(self.http.execute, "DROP TABLE big")
        result = self.execute_ok(self.http, "INSERT INTO big VALUES (?, 'max')", [INT64_MAX])
        self.assertEqual(result["last_insert_id"], expected_last_insert_id(INT64_MAX))
        result = self.execute_ok(self.http, "INSERT INTO big VALUES (?, 'min')", [INT64_MIN])
        self.assertEqual(result["last_insert_id"], expected_last_insert_id(INT64_MIN))
        self.assertEqual(self.query_rows(self.http, "SELECT id FROM big ORDER BY id"),
                         [[INT64_MIN], [INT64_MAX]])

    def test_integer_primary_key(self):
        # SQLite: INTEGER PRIMARY KEY is the rowid, 64 bits, numbered by itself. PostgreSQL: a 32-bit
        # column like any other (AUTO_ID in harness.py is what numbers rows there).
        self.execute_ok(self.http, "CREATE TABLE ipk(id INTEGER PRIMARY KEY, v TEXT)")
        self.addCleanup(self.http.execute, "DROP TABLE ipk")
        numbered = self.http.execute("INSERT INTO ipk(v) VALUES ('a')")
        wide = self.http.execute("INSERT INTO ipk VALUES (?, 'b')", [INT64_MAX])
        if ON_POSTGRES:
            self.assertEqual(self.assert_error(numbered, 409, "SQLITE_CONSTRAINT_NOTNULL")["sqlstate"], "23502")
            self.assertEqual(self.assert_error(wide, 400, "SQLITE_MISMATCH")["sqlstate"], "22003")
            self.assertEqual(self.query_rows(self.http, "SELECT count(*) FROM ipk"), [[0]])
            return
        self.assertEqual(self.assert_ok(numbered)["results"][0]["last_insert_id"], 1)
        self.assert_ok(wide)
        self.assertEqual(self.query_rows(self.http, "SELECT id, v FROM ipk ORDER BY id"), [[1, "a"], [INT64_MAX, "b"]])

    def test_blob_bytes_are_exact(self):
        data = bytes(range(256)) * 4 + b"\x00"
        hex_of = "upper(encode(?1, 'hex'))" if ON_POSTGRES else "hex(?1)"
        rows = self.query_rows(self.http, f"SELECT length(?1), {hex_of}", [blob(data)])
        self.assertEqual(rows, [[len(data), data.hex().upper()]])

    def test_non_finite_floats_still_give_valid_json(self):
        sql = "SELECT 'Infinity'::float8, '-Infinity'::float8, 'NaN'::float8" if ON_POSTGRES else "SELECT 1e999, -1e999"
        resp = self.http.query(sql)
        self.assertIsNotNone(resp.body, f"not strict JSON: {resp.raw!r}")
        self.assertEqual(resp.header("content-type"), "application/json")

    def test_integer_below_int64_min_is_rejected(self):
        resp = self.http.query("SELECT ?", [INT64_MIN - 1])
        self.assert_error(resp, 400, "BAD_PARAMS")

    def test_invalid_utf8_text_still_gives_valid_json(self):
        if ON_POSTGRES:  # PostgreSQL's text is valid UTF-8: making it otherwise is an error
            resp = self.http.query("SELECT convert_from('\\xff41'::bytea, 'UTF8'), 'after'")
            self.assertEqual(self.assert_json_response(resp, 400)["error"]["sqlstate"], "22021")
            return
        resp = self.http.query("SELECT CAST(x'ff41' AS TEXT), 'after'")
        self.assertIsNotNone(resp.body, f"not valid UTF-8 JSON: {resp.raw!r}")

    def test_unicode_column_names(self):
        body = self.assert_ok(self.http.query('SELECT 1 AS "\u65e5\u672c", 2 AS "\u00e9"'))
        self.assertEqual(body["columns"], ["\u65e5\u672c", "\u00e9"])

    def test_embedded_nul_in_string(self):
        if ON_POSTGRES:  # PostgreSQL's text cannot hold U+0000: refused before it is sent
            error = self.assert_error(self.http.query("SELECT ?1", ["a\u0000b"]), 400, "BAD_PARAMS")
            self.assertIn("NUL", error["message"])
            return
        rows = self.query_rows(self.http, "SELECT ?1, length(CAST(?1 AS BLOB))", ["a\u0000b"])
        self.assertEqual(rows, [["a\u0000b", 3]])

    def test_unicode_length_is_in_characters(self):
        text = "\u65e5\u672c\u8a9e\U0001f389"
        rows = self.query_rows(self.http, "SELECT length(?), ?", [text, text])
        self.assertEqual(rows, [[4, text]])

    def test_large_string(self):
        text = "x" * 1_000_000 + "\u00e9"
        rows = self.query_rows(self.http, "SELECT ?, length(?1)", [text])
        self.assertEqual(rows, [[text, len(text)]])

    def test_many_rows(self):
        sql = ("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
               "WHERE n < 5000) SELECT n, 'row' || n FROM c")
        rows = self.query_rows(self.http, sql)
        self.assertEqual(len(rows), 5000)
        self.assertEqual(rows[4999], [5000, "row5000"])


class ParameterBindingTest(SharedServerTestCase):
    def test_positional(self):
        rows = self.query_rows(self.http, "SELECT ?, ?, ?", [1, "two", None])
        self.assertEqual(rows, [[1, "two", None]])

    def test_numbered_positional(self):
        rows = self.query_rows(self.http, "SELECT ?2, ?1, ?2", ["a", "b"])
        self.assertEqual(rows, [["b", "a", "b"]])

    def test_named_with_prefix_in_key(self):
        for prefix in (":", "@", "$"):
            with self.subTest(prefix=prefix):
                sql = f"SELECT {prefix}id, {prefix}name"
                params = {f"{prefix}id": 42, f"{prefix}name": "x"}
                self.assertEqual(self.query_rows(self.http, sql, params), [[42, "x"]])

    def test_bare_name_matches_every_prefix(self):
        for prefix in (":", "@", "$"):
            with self.subTest(prefix=prefix):
                sql = f"SELECT {prefix}id + 1"
                self.assertEqual(self.query_rows(self.http, sql, {"id": 41}), [[42]])

    def test_mixed_prefixes_by_bare_name(self):
        rows = self.query_rows(self.http, "SELECT :a, @b, $c", {"a": 1, "b": 2, "c": 3})
        self.assertEqual(rows, [[1, 2, 3]])

    def test_repeated_named_parameter(self):
        rows = self.query_rows(self.http, "SELECT :x, :x * 2", {"x": 21})
        self.assertEqual(rows, [[21, 42]])

    def test_named_params_in_execute_and_batch(self):
        # One type per column on PostgreSQL: the first value is a blob there too.
        first = blob(b"\x01") if ON_POSTGRES else 1
        self.execute_ok(self.http, "CREATE TABLE kv(k TEXT PRIMARY KEY, v bytea)" if ON_POSTGRES else
                        "CREATE TABLE kv(k TEXT PRIMARY KEY, v ANY) STRICT")
        self.addCleanup(self.http.execute, "DROP TABLE kv")
        self.execute_ok(self.http, "INSERT INTO kv VALUES (:k, @v)", {":k": "a", "v": first})
        results = self.assert_ok(self.http.batch([
            stmt("INSERT INTO kv VALUES ($k, $v)", {"$k": "b", "$v": blob(b"\x00")}),
            stmt("SELECT k, v FROM kv ORDER BY k"),
        ]))["results"]
        self.assertEqual(results[1]["rows"], [["a", first], ["b", blob(b"\x00")]])

    def test_empty_params_when_sql_has_none(self):
        self.assertEqual(self.query_rows(self.http, "SELECT 1", []), [[1]])
        self.assertEqual(self.query_rows(self.http, "SELECT 1", {}), [[1]])


if __name__ == "__main__":
    unittest.main()
