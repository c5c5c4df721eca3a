"""Hrana over HTTP: what the npm clients rarely send (test/clients covers what they do send).

Raw pipeline and cursor bodies: the v3 cursor, describe, every batch condition,
get_autocommit, batons (expired, reused, forged), stored SQL and its limits,
malformed bodies, unknown request types, argument and statement-count errors,
transaction statements, PRAGMA foreign_keys, the Protobuf paths (404), and a
read token that must not be able to write.
"""

import hashlib
import json
import os
import secrets
import time
import unittest

from harness import AUTO_ID, ON_POSTGRES, ServerTestCase, SharedServerTestCase, bearer, wait_until

PIPELINE = "/v2/pipeline"
# A transaction that writes: SQLite takes the write lock at once with IMMEDIATE, PostgreSQL has no such BEGIN.
BEGIN_WRITE = "BEGIN" if ON_POSTGRES else "BEGIN IMMEDIATE"
IDLE_EXPIRY_S = 10.0
EXPIRY_SWEEP_S = IDLE_EXPIRY_S / 4  # streams are swept this often


def stmt(sql, *args, named=None, want_rows=None):
    out = {"sql": sql, "args": [value(a) for a in args]}
    if named:
        out["named_args"] = [{"name": k, "value": value(v)} for k, v in named.items()]
    if want_rows is not None:
        out["want_rows"] = want_rows
    return out


def value(v):
    if v is None:
        return {"type": "null"}
    if isinstance(v, bool) or isinstance(v, int):
        return {"type": "integer", "value": str(int(v))}
    if isinstance(v, float):
        return {"type": "float", "value": v}
    if isinstance(v, bytes):
        import base64
        return {"type": "blob", "base64": base64.b64encode(v).decode()}
    return {"type": "text", "value": v}


def execute(sql, *args, **kw):
    return {"type": "execute", "stmt": stmt(sql, *args, **kw)}


def batch(*steps):
    """steps: (stmt, condition-or-None) pairs or bare stmts."""
    out = []
    for s in steps:
        s, cond = s if isinstance(s, tuple) else (s, None)
        out.append({"stmt": s} if cond is None else {"stmt": s, "condition": cond})
    return {"type": "batch", "batch": {"steps": out}}


CLOSE = {"type": "close"}


class HranaCase(ServerTestCase):
    def pipeline(self, client, requests, baton=None, path=PIPELINE):
        body = {"baton": baton, "requests": requests}
        return client.post_json(path, body)

    def ok(self, client, requests, baton=None, path=PIPELINE):
        body = self.assert_ok(self.pipeline(client, requests, baton, path))
        self.assertEqual(len(body["results"]), len(requests), body)
        return body

    def hrana_error(self, resp, status, code):
        """An HTTP-level error: exactly application/json with top-level message and code."""
        self.assertEqual(resp.status, status, resp.raw[:500])
        self.assertEqual(resp.header("content-type"), "application/json")
        self.assertEqual(resp.body.get("code"), code, resp.body)
        self.assertTrue(resp.body.get("message"), resp.body)
        return resp.body

    def result_ok(self, result):
        self.assertEqual(result["type"], "ok", result)
        return result["response"]

    def result_error(self, result, code):
        self.assertEqual(result["type"], "error", result)
        self.assertEqual(result["error"]["code"], code, result)
        self.assertTrue(result["error"]["message"])
        return result["error"]

    def rows(self, result):
        return [[cell.get("value", cell.get("base64")) for cell in row]
                for row in self.result_ok(result)["result"]["rows"]]


class HranaProtocolTest(SharedServerTestCase, HranaCase):
    server_flags = ("--transaction-timeout", "0.5")

    def setUp(self):
        super().setUp()
        self.table = "t_" + secrets.token_hex(4)
        self.ok(self.http, [execute(f"CREATE TABLE {self.table}({AUTO_ID}, v{' text' if ON_POSTGRES else ''})"), CLOSE])

    def test_probes_and_protobuf_paths(self):
        for path in ("/v2", "/v3"):
            resp = self.http.get(path)
            self.assertEqual(resp.status, 200)
        for path in ("/v3-protobuf", "/v2-protobuf"):
            self.assertEqual(self.http.get(path).status, 404)
        for path in ("/v3-protobuf/pipeline", "/v3-protobuf/cursor"):
            resp = self.http.request("POST", path, b"\x0a\x00", {"Content-Type": "application/x-protobuf"})
            self.assertEqual(resp.status, 404)
        body = self.ok(self.http, [execute("SELECT 1"), CLOSE], path="/v3/pipeline")
        self.assertIsNone(body["baton"])

    def test_values_are_exact(self):
        t = self.table
        big = 2 ** 63 - 1
        # PostgreSQL: one type per column (so one column per value here), no rowid, and every
        # result column's decltype is its type's name.
        cols = ("vi", "vf", "vb", "vb") if ON_POSTGRES else ("v",) * 4
        if ON_POSTGRES:
            t = t + "_typed"
            self.ok(self.http, [execute(f"CREATE TABLE {t}({AUTO_ID}, vi bigint, vf float8, vb bytea)"), CLOSE])
        select = (f"SELECT vi, vf, vb, pg_typeof(vi)::text AS typeof FROM {t} ORDER BY id" if ON_POSTGRES else
                  f"SELECT v, typeof(v) FROM {t} ORDER BY id")
        body = self.ok(self.http, [
            execute(f"INSERT INTO {t}({cols[0]}) VALUES (?)", big),
            execute(f"INSERT INTO {t}({cols[1]}) VALUES (?)", 1.25),
            {"type": "execute", "stmt": {"sql": f"INSERT INTO {t}({cols[2]}) VALUES (?)",
                                         "args": [{"type": "blob", "base64": "AAEC"}]}},
            {"type": "execute", "stmt": {"sql": f"INSERT INTO {t}({cols[3]}) VALUES (?)",
                                         "args": [{"type": "blob", "base64": "AAE"}]}},
            execute(select),
            CLOSE])
        first = self.result_ok(body["results"][0])["result"]
        self.assertEqual(first["last_insert_rowid"], None if ON_POSTGRES else "1")
        self.assertEqual(first["affected_row_count"], 1)
        rows = self.result_ok(body["results"][4])["result"]["rows"]
        at = (0, 1, 2, 2) if ON_POSTGRES else (0, 0, 0, 0)
        self.assertEqual(rows[0][at[0]], {"type": "integer", "value": str(big)})
        self.assertEqual(rows[1][at[1]], {"type": "float", "value": 1.25})
        self.assertEqual(rows[2][at[2]], {"type": "blob", "base64": "AAEC"})
        self.assertEqual(rows[3][at[3]], {"type": "blob", "base64": "AAE="})
        self.assertEqual(rows[0][-1], {"type": "text", "value": "bigint" if ON_POSTGRES else "integer"})
        select = self.result_ok(body["results"][4])["result"]
        self.assertIsNone(select["last_insert_rowid"])
        self.assertEqual(select["cols"], [{"name": "vi", "decltype": "int8"}, {"name": "vf", "decltype": "float8"},
                                          {"name": "vb", "decltype": "bytea"}, {"name": "typeof", "decltype": "text"}]
                         if ON_POSTGRES else
                         [{"name": "v", "decltype": None}, {"name": "typeof(v)", "decltype": None}])

    def test_every_condition_type(self):
        fail = stmt("SELECT * FROM no_such_table")
        ok = stmt("SELECT 1")
        steps = [
            ok,                                                        # 0 ok
            fail,                                                      # 1 error
            (ok, {"type": "ok", "step": 0}),                           # 2 runs
            (ok, {"type": "ok", "step": 1}),                           # 3 skipped
            (ok, {"type": "error", "step": 1}),                        # 4 runs
            (ok, {"type": "not", "cond": {"type": "ok", "step": 1}}),  # 5 runs
            (ok, {"type": "and", "conds": [{"type": "ok", "step": 0}, {"type": "ok", "step": 1}]}),  # 6 skipped
            (ok, {"type": "or", "conds": [{"type": "ok", "step": 0}, {"type": "ok", "step": 1}]}),   # 7 runs
            (ok, {"type": "is_autocommit"}),                           # 8 runs
            (ok, {"type": "ok", "step": 3}),                           # 9 skipped: 3 was skipped
            (ok, {"type": "and", "conds": []}),                        # 10 runs
            (ok, {"type": "or", "conds": []}),                         # 11 skipped
        ]
        body = self.ok(self.http, [batch(*steps), CLOSE])
        result = self.result_ok(body["results"][0])["result"]
        ran = [r is not None for r in result["step_results"]]
        self.assertEqual(ran, [True, False, True, False, True, True, False, True, True, False, True, False])
        errors = [e is not None for e in result["step_errors"]]
        self.assertEqual(errors, [False, True] + [False] * 10)
        self.assertEqual(result["step_errors"][1]["code"], "SQLITE_ERROR")

    def test_conditions_may_not_look_ahead(self):
        body = self.ok(self.http, [batch((stmt("SELECT 1"), {"type": "ok", "step": 0})), CLOSE])
        self.result_error(body["results"][0], "BATCH_COND_BAD_STEP")

    def test_transactions_and_is_autocommit(self):
        t = self.table
        body = self.ok(self.http, [
            {"type": "get_autocommit"},
            batch(stmt(BEGIN_WRITE),
                  (stmt(f"INSERT INTO {t}(v) VALUES (1)"), {"type": "not", "cond": {"type": "is_autocommit"}})),
            {"type": "get_autocommit"},
        ])
        self.assertTrue(self.result_ok(body["results"][0])["is_autocommit"])
        steps = self.result_ok(body["results"][1])["result"]["step_results"]
        self.assertIsNotNone(steps[1])
        self.assertFalse(self.result_ok(body["results"][2])["is_autocommit"])
        body = self.ok(self.http, [execute("BEGIN"), execute("COMMIT"), {"type": "get_autocommit"}, CLOSE],
                       baton=body["baton"])
        # Already in a transaction: SQLite refuses the BEGIN; PostgreSQL warns and goes on.
        if ON_POSTGRES:
            self.result_ok(body["results"][0])
        else:
            self.result_error(body["results"][0], "SQLITE_ERROR")
        self.assertTrue(self.result_ok(body["results"][2])["is_autocommit"])
        body = self.ok(self.http, [execute("COMMIT"), execute("rollback;"), execute(" end TRANSACTION -- x"), CLOSE])
        for r in body["results"][:3]:  # no transaction to end: likewise
            if ON_POSTGRES:
                self.result_ok(r)
            else:
                self.result_error(r, "SQLITE_ERROR")
        self.assertEqual(self.rows(self.ok(self.http, [execute(f"SELECT count(*) FROM {t}"), CLOSE])["results"][0]),
                         [["1"]])

    def test_sandbox_still_refuses(self):
        body = self.ok(self.http, [execute("ATTACH 'x.db' AS x"), execute("VACUUM"), execute("SAVEPOINT s"),
                                   execute("PRAGMA journal_mode=delete"), execute("SELECT load_extension('x')"),
                                   CLOSE])
        for index, r in enumerate(body["results"][:5]):
            if ON_POSTGRES and index == 1:
                self.result_ok(r)  # PostgreSQL's VACUUM, outside a transaction: it runs
                continue
            # On PostgreSQL the others are not its SQL, or (SAVEPOINT) not outside a transaction.
            self.result_error(r, "SQLITE_ERROR" if ON_POSTGRES else "SQLITE_AUTH")

    def test_foreign_keys_pragma_applies_to_its_stream_only(self):
        parent, child = self.table + "_p", self.table + "_c"
        self.ok(self.http, [execute(f"CREATE TABLE {parent}(id INTEGER PRIMARY KEY)"),
                            execute(f"CREATE TABLE {child}(p INTEGER REFERENCES {parent}(id))"), CLOSE])
        if ON_POSTGRES:  # no PRAGMA: foreign keys are always enforced
            body = self.ok(self.http, [execute("PRAGMA foreign_keys=off"), execute(f"INSERT INTO {child} VALUES (7)"),
                                       CLOSE])
            self.result_error(body["results"][0], "SQLITE_ERROR")
            self.result_error(body["results"][1], "SQLITE_CONSTRAINT")
            return
        body = self.ok(self.http, [execute("PRAGMA foreign_keys=off"), execute(f"INSERT INTO {child} VALUES (7)")])
        self.result_ok(body["results"][1])
        other = self.ok(self.http, [execute(f"INSERT INTO {child} VALUES (8)"), CLOSE])
        self.result_error(other["results"][0], "SQLITE_CONSTRAINT")
        body = self.ok(self.http, [execute("PRAGMA foreign_keys = ON"), execute(f"INSERT INTO {child} VALUES (9)"),
                                   CLOSE], baton=body["baton"])
        self.result_error(body["results"][1], "SQLITE_CONSTRAINT")

    def test_describe(self):
        t = self.table
        if ON_POSTGRES:  # not served there
            body = self.ok(self.http, [{"type": "describe", "sql": f"SELECT id FROM {t}"}, CLOSE])
            self.result_error(body["results"][0], "NOT_SUPPORTED")
            return
        body = self.ok(self.http, [
            {"type": "describe", "sql": f"SELECT id, v, 1 AS one FROM {t} WHERE id = :id AND v = ?2"},
            {"type": "describe", "sql": f"EXPLAIN SELECT * FROM {t}"},
            {"type": "describe", "sql": f"INSERT INTO {t}(v) VALUES (?)"},
            {"type": "describe", "sql": "BEGIN IMMEDIATE"},
            {"type": "describe", "sql": "SELECT * FROM nowhere"},
            {"type": "describe", "sql": "SELECT 1; SELECT 2"},
            CLOSE])
        d = self.result_ok(body["results"][0])["result"]
        self.assertEqual(d["params"], [{"name": ":id"}, {"name": "?2"}])
        self.assertEqual(d["cols"], [{"name": "id", "decltype": "INTEGER"}, {"name": "v", "decltype": None},
                                     {"name": "one", "decltype": None}])
        self.assertEqual((d["is_explain"], d["is_readonly"]), (False, True))
        self.assertTrue(self.result_ok(body["results"][1])["result"]["is_explain"])
        insert = self.result_ok(body["results"][2])["result"]
        self.assertEqual((insert["is_readonly"], insert["params"]), (False, [{"name": None}]))
        self.result_ok(body["results"][3])
        self.result_error(body["results"][4], "SQLITE_ERROR")
        self.result_error(body["results"][5], "SQL_MANY_STATEMENTS")

    def test_sequence(self):
        t = self.table
        body = self.ok(self.http, [
            {"type": "sequence", "sql": f"INSERT INTO {t}(v) VALUES ('a;b'); -- c;\nINSERT INTO {t}(v) VALUES (2);"},
            {"type": "sequence", "sql": f"INSERT INTO {t}(v) VALUES (3); SELECT * FROM nope; INSERT INTO {t}(v) VALUES (4)"},
            execute(f"SELECT v FROM {t} ORDER BY id"), CLOSE])
        self.result_ok(body["results"][0])
        self.result_error(body["results"][1], "SQLITE_ERROR")
        self.assertEqual(self.rows(body["results"][2]), [["a;b"], ["2"], ["3"]])

    def test_statement_errors(self):
        t = self.table
        body = self.ok(self.http, [
            execute(f"INSERT INTO {t}(id, v) VALUES (1, 1)"),
            execute(f"INSERT INTO {t}(id, v) VALUES (1, 1)"),
            execute("SELECT ?, :a", 1, named={"a": 2}),
            execute("SELECT 1; SELECT 2"),
            execute("  -- nothing\n"),
            execute("SELECT ?", 1, 2),
            execute("SELECT :a, $b", named={"a": 1, "$b": 2}),
            {"type": "execute", "stmt": {"sql": "SELECT 1", "sql_id": 1}},
            {"type": "execute", "stmt": {}},
            CLOSE])
        r = body["results"]
        self.result_ok(r[0])
        self.result_error(r[1], "SQLITE_CONSTRAINT")
        self.result_error(r[2], "ARGS_BOTH_POSITIONAL_AND_NAMED")
        self.result_error(r[3], "SQL_MANY_STATEMENTS")
        self.result_error(r[4], "SQL_NO_STATEMENT")
        self.result_error(r[5], "ARGS_INVALID")
        self.assertEqual(self.rows(r[6]), [["1", "2"]])
        self.result_error(r[7], "INVALID_REQUEST")
        self.result_error(r[8], "INVALID_REQUEST")

    def test_stored_sql_and_its_limits(self):
        requests = [{"type": "store_sql", "sql_id": i, "sql": f"SELECT {i}"} for i in range(50)]
        requests += [
            {"type": "store_sql", "sql_id": 50, "sql": "SELECT 50"},       # one too many
            {"type": "store_sql", "sql_id": 3, "sql": "SELECT 'again'"},   # id in use
            {"type": "execute", "stmt": {"sql_id": 49}},
            {"type": "close_sql", "sql_id": 3},
            {"type": "close_sql", "sql_id": 12345},                        # unknown: fine
            {"type": "store_sql", "sql_id": 3, "sql": "SELECT 'three'"},
            {"type": "execute", "stmt": {"sql_id": 3}},
            {"type": "execute", "stmt": {"sql_id": 777}},
            {"type": "store_sql", "sql_id": 60, "sql": "SELECT '" + "x" * 200_000 + "'"},
            batch({"sql_id": 7}, {"sql_id": 3}),
        ]
        body = self.ok(self.http, requests)
        r = body["results"]
        for i in range(50):
            self.result_ok(r[i])
        self.result_error(r[50], "SQL_STORE_TOO_MANY")
        self.result_error(r[51], "SQL_STORE_EXISTS")
        self.assertEqual(self.rows(r[52]), [["49"]])
        self.result_ok(r[53])
        self.result_ok(r[54])
        self.result_ok(r[55])
        self.assertEqual(self.rows(r[56]), [["three"]])
        self.result_error(r[57], "SQL_NOT_FOUND")
        self.result_error(r[58], "SQL_STORE_TOO_MANY")  # the count is checked first; still 50 stored
        steps = self.result_ok(r[59])["result"]["step_results"]
        self.assertEqual(steps[0]["rows"], [[{"type": "integer", "value": "7"}]])
        # Stored SQL belongs to its stream.
        other = self.ok(self.http, [{"type": "execute", "stmt": {"sql_id": 7}}, CLOSE])
        self.result_error(other["results"][0], "SQL_NOT_FOUND")
        big = self.ok(self.http, [{"type": "store_sql", "sql_id": 1, "sql": "SELECT '" + "x" * 200_000 + "'"}, CLOSE])
        self.result_error(big["results"][0], "SQL_STORE_TOO_LARGE")
        self.ok(self.http, [CLOSE], baton=body["baton"])

    def test_malformed_bodies_and_unknown_requests(self):
        for raw in (b"{", b"[1]", b'{"requests": 5}', b'{"baton": 7, "requests": []}', b"null"):
            resp = self.http.request("POST", PIPELINE, raw, {"Content-Type": "application/json"})
            self.assertEqual(resp.status, 400, raw)
            self.assertEqual(resp.header("content-type"), "application/json")
            self.assertIn(resp.body["code"], {"BAD_JSON", "BAD_REQUEST", "BATON_INVALID"})
            self.assertEqual(resp.body["error"]["code"], resp.body["code"])
        resp = self.http.request("POST", PIPELINE, b"{}", {"Content-Type": "text/plain"})
        self.hrana_error(resp, 415, "UNSUPPORTED_MEDIA_TYPE")
        body = self.ok(self.http, [{"type": "open_cursor"}, {"nope": 1}, 17, execute("SELECT 5"), CLOSE,
                                   execute("SELECT 6")])
        r = body["results"]
        self.result_error(r[0], "UNKNOWN_REQUEST")
        self.result_error(r[1], "INVALID_REQUEST")
        self.result_error(r[2], "INVALID_REQUEST")
        self.assertEqual(self.rows(r[3]), [["5"]])
        self.result_ok(r[4])
        self.result_error(r[5], "STREAM_CLOSED")
        self.assertIsNone(body["baton"])

    def test_batons_are_single_use_and_unforgeable(self):
        first = self.ok(self.http, [execute("SELECT 1")])
        baton = first["baton"]
        self.assertIsInstance(baton, str)
        second = self.ok(self.http, [execute("SELECT 2")], baton=baton)
        self.assertNotEqual(second["baton"], baton)
        self.hrana_error(self.pipeline(self.http, [execute("SELECT 3")], baton=baton), 400, "BATON_REUSED")
        forged = second["baton"][:-2] + ("AA" if second["baton"][-2:] != "AA" else "BB")
        self.hrana_error(self.pipeline(self.http, [execute("SELECT 3")], baton=forged), 400, "BATON_INVALID")
        for junk in ("", "x", "a" * 43, "not a baton at all"):
            self.hrana_error(self.pipeline(self.http, [CLOSE], baton=junk), 400, "BATON_INVALID")
        closed = self.ok(self.http, [CLOSE], baton=second["baton"])
        self.assertIsNone(closed["baton"])
        self.hrana_error(self.pipeline(self.http, [CLOSE], baton=second["baton"]), 400, "STREAM_EXPIRED")

    def test_an_abandoned_transaction_times_out(self):
        t = self.table
        body = self.ok(self.http, [execute(BEGIN_WRITE), execute(f"INSERT INTO {t}(v) VALUES ('lost')")])
        other = self.client(self.server)
        started = time.monotonic()
        self.ok(other, [execute(f"INSERT INTO {t}(v) VALUES ('kept')"), CLOSE])
        if ON_POSTGRES:  # writers do not wait for each other: wait for the timeout to roll it back
            idle = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state LIKE 'idle in transaction%'")
            self.assertTrue(wait_until(lambda: self.query_value(self.http, idle) == 0, 10),
                            "the abandoned transaction was never rolled back")
        else:  # SQLite's one writer waits for the timeout
            self.assertGreaterEqual(time.monotonic() - started, 0.3)
        late = self.ok(self.http, [execute("COMMIT"), {"type": "get_autocommit"}, CLOSE], baton=body["baton"])
        self.result_error(late["results"][0], "TRANSACTION_TIMEOUT")
        self.assertTrue(self.result_ok(late["results"][1])["is_autocommit"])
        rows = self.rows(self.ok(self.http, [execute(f"SELECT v FROM {t}"), CLOSE])["results"][0])
        self.assertEqual(rows, [["kept"]])

    def test_v3_cursor(self):
        t = self.table
        self.ok(self.http, [execute(f"INSERT INTO {t}(v) VALUES ('a'), ('b')"), CLOSE])
        cursor_body = {"baton": None, "batch": {"steps": [
            {"stmt": stmt(f"SELECT id, v FROM {t} ORDER BY id")},
            {"stmt": stmt("SELECT * FROM nope")},
            {"stmt": stmt("SELECT 1"), "condition": {"type": "ok", "step": 1}},
            {"stmt": stmt(f"INSERT INTO {t}(v) VALUES ('c')")},
        ]}}
        resp = self.http.post_json("/v3/cursor", cursor_body)
        self.assertEqual(resp.status, 200, resp.raw)
        lines = [json.loads(line) for line in resp.raw.decode().splitlines()]
        head, entries = lines[0], lines[1:]
        self.assertIn("baton", head)
        types = [e["type"] for e in entries]
        self.assertEqual(types, ["step_begin", "row", "row", "step_end", "step_error", "step_begin", "step_end"])
        self.assertEqual(entries[0]["step"], 0)
        self.assertEqual(entries[0]["cols"][1], {"name": "v", "decltype": "text" if ON_POSTGRES else None})
        self.assertEqual(entries[1]["row"][1], {"type": "text", "value": "a"})
        self.assertEqual(entries[4]["step"], 1)
        self.assertEqual(entries[4]["error"]["code"], "SQLITE_ERROR")
        self.assertEqual(entries[5]["step"], 3)
        self.assertEqual(entries[6]["affected_row_count"], 1)
        # The baton of the cursor continues on /v3/pipeline.
        self.ok(self.http, [execute("SELECT 1"), CLOSE], baton=head["baton"], path="/v3/pipeline")
        bad = self.http.post_json("/v3/cursor", {"baton": None})
        self.hrana_error(bad, 400, "BAD_REQUEST")

class HranaLimitsTest(HranaCase):
    def test_too_many_streams(self):
        client = self.client(self.start_server())
        opened = 0
        for _ in range(1100):
            resp = self.pipeline(client, [])
            if resp.status != 200:
                break
            opened += 1
        self.hrana_error(resp, 503, "TOO_MANY_STREAMS")
        self.assertEqual(resp.header("retry-after"), "1")
        self.assertEqual(opened, 1024)
        # A pipeline that closes its new stream needs no registration and still works.
        self.ok(client, [execute("SELECT 1"), CLOSE])



class HranaExpiryTest(HranaCase):
    def test_an_idle_stream_expires(self):
        server = self.start_server()
        client = self.client(server)
        sent = time.monotonic()
        body = self.ok(client, [execute("CREATE TABLE e(v integer)"), execute(BEGIN_WRITE),
                                execute("INSERT INTO e VALUES (1)")])
        self.assertEqual(self.open_streams(client), 1)
        # Polling /metrics, not the baton: using the stream would keep it alive.
        expired = wait_until(lambda: self.open_streams(client) == 0, timeout=IDLE_EXPIRY_S + 2 * EXPIRY_SWEEP_S + 5)
        self.assertTrue(expired, "the idle stream was never expired")
        self.assertGreaterEqual(time.monotonic() - sent, IDLE_EXPIRY_S, "the stream expired before it was idle long")
        resp = self.pipeline(client, [execute("COMMIT")], baton=body["baton"])
        self.hrana_error(resp, 400, "STREAM_EXPIRED")
        rows = self.rows(self.ok(client, [execute("SELECT count(*) FROM e"), CLOSE])["results"][0])
        self.assertEqual(rows, [["0"]])

    def open_streams(self, client):
        resp = client.get("/metrics")
        self.assertEqual(resp.status, 200, resp.raw[:300])
        values = [line.split()[1] for line in resp.raw.decode().splitlines()
                  if line.startswith("monolite_hrana_open_streams ")]
        self.assertEqual(len(values), 1, "no monolite_hrana_open_streams in /metrics")
        return int(values[0])


class HranaRolesTest(HranaCase):
    def setUp(self):
        super().setUp()
        workdir = self.make_tempdir()
        self.read_token, self.write_token = secrets.token_hex(16), secrets.token_hex(16)
        auth = os.path.join(workdir, "auth.json")
        with open(auth, "w") as out:
            json.dump({"tokens": [
                {"name": "reader", "sha256": hashlib.sha256(self.read_token.encode()).hexdigest(), "role": "read"},
                {"name": "writer", "sha256": hashlib.sha256(self.write_token.encode()).hexdigest(), "role": "write"},
            ]}, out)
        self.server = self.start_server("--auth", auth, workdir=workdir)
        self.reader = self.client(self.server, headers=bearer(self.read_token))
        self.writer = self.client(self.server, headers=bearer(self.write_token))
        self.ok(self.writer, [execute("CREATE TABLE r(v integer)"), execute("INSERT INTO r VALUES (1)"), CLOSE])

    def test_a_read_token_cannot_write_through_v2_pipeline(self):
        body = self.ok(self.reader, [
            execute("SELECT count(*) FROM r"),
            execute("INSERT INTO r VALUES (2)"),
            execute("WITH x AS (SELECT 1) INSERT INTO r SELECT * FROM x"),
            execute("DROP TABLE r"),
            batch(stmt(BEGIN_WRITE), stmt("DELETE FROM r"), stmt("COMMIT")),
            batch(stmt("BEGIN"), stmt("UPDATE r SET v = 5"), stmt("SELECT count(*) FROM r"), stmt("COMMIT")),
            {"type": "sequence", "sql": "DELETE FROM r; SELECT 1;"},
            execute("PRAGMA foreign_keys=off"),
            CLOSE])
        r = body["results"]
        self.assertEqual(self.rows(r[0]), [["1"]])
        for i in (1, 2, 3):
            self.result_error(r[i], "SQLITE_READONLY")
        steps = self.result_ok(r[4])["result"]["step_errors"]
        if ON_POSTGRES:  # a read token's BEGIN there is BEGIN READ ONLY: it runs, the DELETE does not
            self.assertIsNone(steps[0])
        else:
            self.assertEqual(steps[0]["code"], "SQLITE_READONLY")
        self.assertEqual(steps[1]["code"], "SQLITE_READONLY")
        read_txn = self.result_ok(r[5])["result"]
        self.assertIsNone(read_txn["step_errors"][0])
        self.assertEqual(read_txn["step_errors"][1]["code"], "SQLITE_READONLY")
        if ON_POSTGRES:  # the failed UPDATE aborted the transaction there (docs/api.md, "On PostgreSQL")
            self.assertIn("current transaction is aborted", read_txn["step_errors"][2]["message"])
        else:
            self.assertIsNotNone(read_txn["step_results"][2])
        self.result_error(r[6], "SQLITE_READONLY")
        rows = self.rows(self.ok(self.writer, [execute("SELECT v FROM r"), CLOSE])["results"][0])
        self.assertEqual(rows, [["1"]])

    def test_tokens_are_checked_as_on_the_sql_routes(self):
        anonymous = self.client(self.server)
        resp = self.pipeline(anonymous, [execute("SELECT 1")])
        self.hrana_error(resp, 401, "UNAUTHORIZED")
        self.assertEqual(resp.header("www-authenticate"), "Bearer")
        self.assertEqual(anonymous.get("/v2").status, 401)
        self.assertEqual(self.reader.get("/v2").status, 200)
        self.assertEqual(self.reader.get("/v3").status, 200)
        self.assertEqual(self.pipeline(self.client(self.server, headers=bearer("wrong")), [CLOSE]).status, 401)
        # A write token's stream cannot be continued with a read token.
        body = self.ok(self.writer, [execute("SELECT 1")])
        self.hrana_error(self.pipeline(self.reader, [execute("DELETE FROM r")], baton=body["baton"]),
                         403, "FORBIDDEN")
        self.ok(self.writer, [CLOSE], baton=body["baton"])


if __name__ == "__main__":
    unittest.main()
