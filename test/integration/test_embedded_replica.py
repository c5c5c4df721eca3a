"""Embedded replicas of @libsql/client against monolite's replication routes (wal_log.ReplicationLog).

Each replica is a long-lived Node process (test/clients/embedded_replica.mjs) answering JSON
commands, so a test interleaves writes on the primary with syncs and reads on the replica. After
every drill the replica's file passes integrity_check and holds exactly the primary's rows: the
same checksum (every table's name, columns and rows, order-independent) computed by the same SQL
on both sides. Then the routes' error paths over raw gRPC-web. Fails, never skips, without node or
the npm packages.
"""

import contextlib
import hashlib
import json
import os
import queue
import shutil
import sqlite3
import subprocess
import threading
import time
import unittest
import uuid

from harness import HOST, Background, Server, ServerTestCase, bearer, wait_until
from test_libsql_proxy import GrpcReply, decode, f_varint, frame
from test_security import auth_file_text, new_token

CLIENTS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "clients"))
REPLICA_SCRIPT = os.path.join(CLIENTS_DIR, "embedded_replica.mjs")
COMMAND_TIMEOUT_S = 60.0
SYNC_INTERVAL_DEADLINE_S = 15.0
GRPC_CONTENT_TYPE = "application/grpc-web"
BLOB_BYTES = 3000  # a row of its own page or so: bulky transactions write many frames
SEGMENT_FRAMES = 4096  # frames of one replication log segment


def missing_prerequisite():
    if shutil.which("node") is None:
        return "the embedded replica tests need node (Node.js 20 or newer) on PATH"
    if not os.path.exists(os.path.join(CLIENTS_DIR, "node_modules", "@libsql", "client", "package.json")):
        return f"the embedded replica tests need the npm packages of {CLIENTS_DIR}: run test/clients/install.sh"
    return None


def checksum(run_query):
    """{table: (row count, order-independent hash of its rows)} plus the column lists, by `run_query(sql, args)`
    returning rows: the same SQL on the primary and on a replica, SQLite's quote() rendering each value."""
    tables = [r[0] for r in run_query("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE "
                                      "'sqlite_%' ORDER BY name", [])]
    out = {}
    for table in tables:
        columns = [r[0] for r in run_query("SELECT name FROM pragma_table_info(?) ORDER BY cid", [table])]
        text = " || ',' || ".join(f'quote("{c}")' for c in columns)
        total = 0
        rows = run_query(f'SELECT {text} FROM "{table}"', [])
        for (row_text,) in rows:
            total = (total + int.from_bytes(hashlib.sha256(row_text.encode()).digest(), "big")) % (1 << 256)
        out[table] = {"columns": columns, "rows": len(rows), "hash": f"{total:064x}"}
    return out


def parse_metrics(text):
    return {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line and not line.startswith("#")}


class Replica:
    """One embedded_replica.mjs process; call() sends a command and waits (bounded) for its answer."""

    def __init__(self, workdir):
        self.path = os.path.join(workdir, "local.db")
        self.log = open(os.path.join(workdir, f"replica-{time.monotonic_ns()}.log"), "w+b")
        answers, answers_fd = os.pipe()  # the native client logs to stdout: the answers have a pipe of their own
        self.proc = subprocess.Popen(["node", REPLICA_SCRIPT, str(answers_fd)], cwd=CLIENTS_DIR, stdin=subprocess.PIPE,
                                     stdout=self.log, stderr=self.log, text=True, pass_fds=(answers_fd,))
        os.close(answers_fd)
        self.answers = queue.Queue()
        threading.Thread(target=self._read, args=(os.fdopen(answers, encoding="utf-8"),), daemon=True).start()

    def _read(self, answers):
        with answers:
            for line in answers:
                self.answers.put(json.loads(line))
        self.answers.put(None)

    def call(self, op, timeout=COMMAND_TIMEOUT_S, **fields):
        self.proc.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.proc.stdin.flush()
        try:
            answer = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the replica did not answer {op} within {timeout}s; {self.log_tail()}") from None
        if answer is None:
            raise AssertionError(f"the replica exited on {op}: {self.log_tail()}")
        return answer

    def ok(self, op, **fields):
        answer = self.call(op, **fields)
        if not answer["ok"]:
            raise AssertionError(f"{op} {fields}: {answer}")
        return answer["result"]

    def rows(self, sql, args=()):
        return self.ok("query", sql=sql, args=list(args))["rows"]

    def checksum(self):
        return checksum(self.rows)

    def integrity(self):
        """integrity_check through the client's own connection (a PRAGMA statement would be delegated to
        the primary; a SELECT runs locally), then on the file by another connection."""
        through_client = [r[0] for r in self.rows("SELECT * FROM pragma_integrity_check")]
        with contextlib.closing(sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)) as conn:
            on_file = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        return through_client, on_file

    def log_tail(self):
        self.log.seek(0)
        return self.log.read()[-2000:].decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(COMMAND_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(COMMAND_TIMEOUT_S)
        self.log.close()


class ReplicaTestCase(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        why = missing_prerequisite()
        if why:
            raise cls.failureException(why)

    def setUp(self):
        self.workdir = self.make_tempdir()
        self.token = None  # what replicas and checks present, on servers with --auth

    def serve(self, *flags):
        self.server = self.start_server(*flags, workdir=self.workdir)
        self.http = self.client(self.server, headers=bearer(self.token) if self.token else None)
        return self.server

    def restart(self, kill):
        """kill -9 (a new history) or SIGTERM (the same one), then the same database on the same port."""
        old = self.server
        if kill:
            old.kill9()
        else:
            self.assertEqual(old.stop(), 0, old.log_tail())
        self.server = self.start_custom_server(Server(old.workdir, old.serve_args, old.port))
        self.http.close()
        self.http = self.client(self.server, headers=bearer(self.token) if self.token else None)

    def open_replica(self, token=None, **options):
        replica = Replica(self.workdir)
        self.addCleanup(replica.stop)
        auth = {"authToken": token} if token else {}
        replica.ok("open", path=replica.path, syncUrl=f"http://{HOST}:{self.server.port}", **auth, **options)
        return replica

    def primary(self, sql, args=()):
        resp = self.http.execute(sql, list(args))
        self.assertEqual(resp.status, 200, resp.raw[:1000])
        return resp.body["results"][0]

    def primary_many(self, statements):
        resp = self.http.execute_many([{"sql": s, "params": list(a)} for s, a in statements])
        self.assertEqual(resp.status, 200, resp.raw[:1000])

    def primary_rows(self, sql, args=()):
        resp = self.http.query(sql, list(args))
        self.assertEqual(resp.status, 200, resp.raw[:1000])
        return resp.body["rows"]

    def metrics(self):
        resp = self.http.get("/metrics")
        self.assertEqual(resp.status, 200, resp.raw[:500])
        return parse_metrics(resp.raw.decode())

    def assert_same_as_primary(self, replica):
        self.assertEqual(replica.integrity(), (["ok"], ["ok"]))
        self.assertEqual(replica.checksum(), checksum(self.primary_rows))

    def insert_blobs(self, table, ids):
        self.primary_many([(f"INSERT INTO {table}(id, b) VALUES (?, randomblob({BLOB_BYTES}))", (i,)) for i in ids])


class ReadsTest(ReplicaTestCase):
    def test_a_replica_sees_the_primary_s_rows_only_once_it_syncs(self):
        self.serve()
        self.primary("CREATE TABLE t(id INTEGER PRIMARY KEY, s TEXT, i INTEGER, r REAL, b BLOB, n)")
        replica = self.open_replica()
        replica.ok("sync")
        self.assertEqual(replica.rows("SELECT * FROM t"), [])
        self.primary_many([("INSERT INTO t VALUES (1, 'hé', -7, 2.5, x'00ff', NULL)", ()),
                           ("INSERT INTO t VALUES (2, 'two', 9007199254740991, -0.5, x'', NULL)", ())])
        self.assertEqual(replica.rows("SELECT * FROM t"), [])  # reads are local
        synced = replica.ok("sync")
        self.assertEqual(synced["frame_no"], self.metrics()["monolite_replication_log_next_frame"] - 1)
        self.assertEqual(replica.rows("SELECT * FROM t ORDER BY id"),
                         [[1, "hé", -7, 2.5, {"base64": "AP8="}, None], [2, "two", 9007199254740991, -0.5,
                                                                           {"base64": ""}, None]])
        self.assert_same_as_primary(replica)

    def test_a_replica_of_an_empty_database_syncs(self):
        self.serve()
        replica = self.open_replica()
        replica.ok("sync")
        self.assertEqual(replica.rows("SELECT count(*) FROM sqlite_schema"), [[0]])
        self.primary("CREATE TABLE t(id INTEGER PRIMARY KEY)")
        self.primary("INSERT INTO t VALUES (1)")
        replica.ok("sync")
        self.assertEqual(replica.rows("SELECT id FROM t"), [[1]])
        self.assert_same_as_primary(replica)

    def test_a_transaction_larger_than_one_batch_of_frames(self):
        self.serve()
        self.primary("CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB)")
        replica = self.open_replica()
        replica.ok("sync")
        before = self.metrics()["monolite_replication_log_next_frame"]
        self.insert_blobs("big", range(1, 1501))  # one transaction of some 1500 pages: batches hold 1024 frames
        # A sync begun after the write was acknowledged has all of it.
        synced = replica.ok("sync")
        self.assertEqual(replica.rows("SELECT count(*) FROM big"), [[1500]])
        self.assertGreater(synced["frame_no"] - before, 1024)
        self.assert_same_as_primary(replica)

    def test_sync_interval_brings_the_rows_without_an_explicit_sync(self):
        self.serve()
        self.primary("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        replica = self.open_replica(syncInterval=1)
        for i in range(1, 4):
            self.primary("INSERT INTO t VALUES (?, ?)", (i, f"v{i}"))

        def all_rows_seen():  # the table itself comes with the first background sync
            answer = replica.call("query", sql="SELECT count(*) FROM t")
            return answer["ok"] and answer["result"]["rows"] == [[3]]
        seen = wait_until(all_rows_seen, SYNC_INTERVAL_DEADLINE_S, interval=0.2)
        self.assertTrue(seen, "rows inserted on the primary never appeared on the replica")
        self.assertEqual(replica.rows("SELECT id, v FROM t ORDER BY id"), [[1, "v1"], [2, "v2"], [3, "v3"]])
        self.assert_same_as_primary(replica)


class WritesTest(ReplicaTestCase):
    def test_writes_through_the_replica_reach_the_primary_and_are_read_back_at_once(self):
        self.serve()
        replica = self.open_replica()
        replica.ok("execute", sql="CREATE TABLE w(id INTEGER PRIMARY KEY, name TEXT, b BLOB)")
        inserted = replica.ok("execute", sql="INSERT INTO w(id, name) VALUES (?, ?)", args=[1, "one"])
        self.assertEqual((inserted["rows_affected"], inserted["last_insert_rowid"]), (1, 1))
        self.assertEqual(replica.rows("SELECT id, name FROM w"), [[1, "one"]])  # read-your-writes, no sync
        replica.ok("execute", sql="INSERT INTO w(id, name) VALUES (:id, :name)", args={"id": 2, "name": "two"})
        self.assertEqual(replica.rows("SELECT id, name FROM w ORDER BY id"), [[1, "one"], [2, "two"]])
        results = replica.ok("batch", mode="write", statements=[
            {"sql": "INSERT INTO w(id, name) VALUES (?, ?)", "args": [3, "three"]},
            {"sql": "UPDATE w SET name = upper(name) WHERE id <= ?", "args": [2]},
            {"sql": "INSERT INTO w(id, name) VALUES (:id, :name)", "args": {"id": 4, "name": "four"}}])
        self.assertEqual([r["rows_affected"] for r in results], [1, 2, 1])
        expected = [[1, "ONE"], [2, "TWO"], [3, "three"], [4, "four"]]
        self.assertEqual(self.primary_rows("SELECT id, name FROM w ORDER BY id"), expected)
        self.assertEqual(replica.rows("SELECT id, name FROM w ORDER BY id"), expected)
        self.assert_same_as_primary(replica)

    def test_a_failing_batch_writes_nothing(self):
        self.serve()
        self.primary("CREATE TABLE w(id INTEGER PRIMARY KEY)")
        replica = self.open_replica()
        answer = replica.call("batch", mode="write", statements=[{"sql": "INSERT INTO w VALUES (1)"},
                                                                 {"sql": "INSERT INTO w VALUES (1)"}])
        self.assertFalse(answer["ok"], answer)
        self.assertIn("UNIQUE", answer["error"])
        self.assertEqual(self.primary_rows("SELECT count(*) FROM w"), [[0]])
        replica.ok("sync")
        self.assert_same_as_primary(replica)


class HistoryTest(ReplicaTestCase):
    def hello_log_id(self):
        reply = grpc_call(self.http, "Hello", f_varint(1, 1), self.token)
        self.assertEqual(reply.status, 0, reply.message)
        return decode(reply.messages[0])[3][0].decode()

    def test_a_replica_far_behind_the_log_recovers_through_a_snapshot(self):
        self.serve("--replication-log-max-bytes", "1")  # only the current segment is kept
        self.primary("CREATE TABLE big(id INTEGER PRIMARY KEY, b BLOB, round INTEGER DEFAULT 0)")
        self.insert_blobs("big", range(1, 101))
        replica = self.open_replica()
        position = replica.ok("sync")["frame_no"]
        replica.ok("close")
        snapshots = self.metrics()["monolite_replication_snapshots_total"]
        trimmed = lambda: self.metrics()["monolite_replication_log_first_frame"] > position + 1  # noqa: E731
        for round_ in range(1, 2 * SEGMENT_FRAMES // 100 + 1):  # every row's page again, each round
            self.primary("UPDATE big SET b = randomblob(?), round = ?", (BLOB_BYTES, round_))
            if trimmed():
                break
        self.assertTrue(wait_until(trimmed, COMMAND_TIMEOUT_S), "the log kept the replica's next frame")
        replica.ok("open", path=replica.path, syncUrl=f"http://{HOST}:{self.server.port}")
        replica.ok("sync")
        self.assertEqual(self.metrics()["monolite_replication_snapshots_total"], snapshots + 1)
        self.assertEqual(replica.rows("SELECT DISTINCT round FROM big"), [[round_]])
        self.assert_same_as_primary(replica)

    def test_after_kill9_a_replica_starts_over_with_the_new_schema(self):
        self.serve()
        self.primary("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        self.primary_many([("INSERT INTO t VALUES (?, ?)", (i, f"v{i}")) for i in range(1, 51)])
        replica = self.open_replica()
        replica.ok("sync")
        self.assertEqual(replica.rows("SELECT count(*) FROM t"), [[50]])
        log_id = self.hello_log_id()
        self.primary_many([("DROP TABLE t", ()), ("CREATE TABLE t(key TEXT PRIMARY KEY, x INTEGER, y BLOB)", ()),
                           ("INSERT INTO t VALUES ('a', 1, x'01')", ())])
        self.restart(kill=True)
        self.assertNotEqual(self.hello_log_id(), log_id)
        self.primary("INSERT INTO t VALUES ('b', 2, x'02')")
        self.primary("CREATE TABLE u(id INTEGER PRIMARY KEY, note TEXT)")
        self.primary("INSERT INTO u VALUES (1, 'after the restart')")
        replica.ok("sync")
        self.assertEqual(replica.ok("query", sql="SELECT * FROM t ORDER BY key")["columns"], ["key", "x", "y"])
        self.assertEqual(replica.rows("SELECT key, x FROM t ORDER BY key"), [["a", 1], ["b", 2]])
        self.assertEqual(replica.rows("SELECT note FROM u"), [["after the restart"]])
        self.assertGreaterEqual(self.metrics()["monolite_replication_snapshots_total"], 1)
        self.assert_same_as_primary(replica)
        self.primary("ALTER TABLE u ADD COLUMN extra INTEGER DEFAULT 7")  # the same history goes on
        replica.ok("sync")
        self.assertEqual(replica.rows("SELECT id, note, extra FROM u"), [[1, "after the restart", 7]])
        self.assert_same_as_primary(replica)

    def test_a_database_replaced_behind_the_server_s_back_is_a_new_history_even_with_the_same_schema_cookie(self):
        self.serve()
        self.primary("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        self.primary_many([("INSERT INTO t VALUES (?, ?)", (i, f"v{i}")) for i in range(1, 51)])
        replica = self.open_replica()
        replica.ok("sync")
        self.assertEqual(replica.rows("SELECT count(*) FROM t"), [[50]])  # the client's connection has the schema
        cookie = self.primary_rows("PRAGMA schema_version")[0][0]
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(self.server.db + suffix):
                os.remove(self.server.db + suffix)
        with contextlib.closing(sqlite3.connect(self.server.db)) as other:  # another schema, the same cookie
            other.executescript("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL;"
                                "CREATE TABLE t(key TEXT PRIMARY KEY, x INTEGER, y BLOB) WITHOUT ROWID;"
                                "INSERT INTO t VALUES ('a', 1, x'01'), ('b', 2, x'02');")
            other.execute(f"PRAGMA schema_version = {cookie}")
            other.commit()
        self.server = self.start_custom_server(Server(self.server.workdir, self.server.serve_args, self.server.port))
        self.http.close()
        self.http = self.client(self.server)
        replica.ok("sync")
        self.assertEqual(self.metrics()["monolite_replication_snapshots_total"], 1)
        self.assertEqual(replica.ok("query", sql="SELECT * FROM t ORDER BY key")["columns"], ["key", "x", "y"])
        self.assertEqual(replica.rows("SELECT key, x FROM t ORDER BY key"), [["a", 1], ["b", 2]])
        self.assert_same_as_primary(replica)

    def test_after_a_clean_restart_a_replica_goes_on_without_a_snapshot(self):
        self.serve()
        self.primary("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        self.primary("INSERT INTO t VALUES (1, 'before')")
        replica = self.open_replica()
        replica.ok("sync")
        log_id = self.hello_log_id()
        self.primary("INSERT INTO t VALUES (2, 'not yet synced')")
        self.restart(kill=False)
        self.assertEqual(self.hello_log_id(), log_id)
        self.primary("INSERT INTO t VALUES (3, 'after')")
        replica.ok("sync")
        self.assertEqual(replica.rows("SELECT id FROM t ORDER BY id"), [[1], [2], [3]])
        metrics = self.metrics()
        self.assertEqual(metrics["monolite_replication_snapshots_total"], 0)
        self.assertEqual(metrics["monolite_replication_log_generations_total"], 0)
        self.assert_same_as_primary(replica)

    def test_sustained_writes_while_the_replica_syncs(self):
        self.serve()
        self.primary("CREATE TABLE s(id INTEGER PRIMARY KEY, txn INTEGER, b BLOB)")
        replica = self.open_replica()
        writer_client = self.client(self.server)
        syncs = threading.Condition()
        syncs.count = 0

        def write():
            for txn in range(200):  # 2000 rows; every tenth transaction bulky
                if txn % 20 == 0:  # and the replica syncs in between, at least once every 20 transactions
                    with syncs:
                        seen = syncs.count
                        if not syncs.wait_for(lambda: syncs.count > seen, COMMAND_TIMEOUT_S):
                            raise AssertionError("the replica stopped syncing")
                size = BLOB_BYTES if txn % 10 == 0 else 8
                body = [{"sql": "INSERT INTO s VALUES (?, ?, randomblob(?))", "params": [txn * 10 + k, txn, size]}
                        for k in range(10)]
                resp = writer_client.execute_many(body)
                if resp.status != 200:
                    raise AssertionError(resp.raw[:500])
        writer = Background(write)
        positions = []
        while writer.finished_at is None:
            positions.append(replica.ok("sync")["frame_no"])
            with syncs:
                syncs.count += 1
                syncs.notify_all()
        writer.wait(COMMAND_TIMEOUT_S)
        positions.append(replica.ok("sync")["frame_no"])
        self.assertEqual(positions, sorted(positions))
        self.assertGreater(len(set(positions)), 10)
        self.assertEqual(positions[-1], self.metrics()["monolite_replication_log_next_frame"] - 1)
        self.assertEqual(replica.rows("SELECT count(*), count(DISTINCT txn) FROM s"), [[2000, 200]])
        self.assert_same_as_primary(replica)


class AuthTest(ReplicaTestCase):
    def setUp(self):
        super().setUp()
        self.tokens = {role: new_token() for role in ("read", "write", "admin")}
        auth = os.path.join(self.workdir, "auth.yaml")
        with open(auth, "w", encoding="utf-8") as out:
            out.write(auth_file_text([(f"{r}-client", t, r) for r, t in self.tokens.items()]))
        self.token = self.tokens["admin"]
        self.serve("--auth", auth)
        self.primary("CREATE TABLE t(id INTEGER PRIMARY KEY)")
        self.primary("INSERT INTO t VALUES (1)")

    def test_a_read_token_syncs(self):
        replica = self.open_replica(token=self.tokens["read"])
        replica.ok("sync")
        self.assertEqual(replica.rows("SELECT id FROM t"), [[1]])
        self.assert_same_as_primary(replica)

    def test_without_a_valid_token_a_replica_cannot_open(self):
        # The client asks GET /info when it opens: a 401 there fails the open at once, with nothing
        # synced (before, Hello's refusal came only after three tries, 1 s apart).
        for name, token in (("no token", None), ("a wrong token", "mlt_not_a_token")):
            with self.subTest(name):
                replica = Replica(self.workdir)
                self.addCleanup(replica.stop)
                auth = {"authToken": token} if token else {}
                answer = replica.call("open", path=replica.path, syncUrl=f"http://{HOST}:{self.server.port}", **auth)
                self.assertEqual(answer, {"ok": False, "error": "sync error: Unauthorized", "code": None})
                replica.stop()
                self.assertFalse(os.path.exists(replica.path + "-client_wal_index"), "a refused replica synced")

    def test_a_write_with_a_read_token_is_denied_and_writes_nothing(self):
        replica = self.open_replica(token=self.tokens["read"])
        replica.ok("sync")
        answer = replica.call("execute", sql="INSERT INTO t VALUES (2)")
        self.assertFalse(answer["ok"], answer)
        self.assertTrue(answer["error"].startswith("WriteDelegation(status: PermissionDenied, message: \"FORBIDDEN: "),
                        answer)
        answer = replica.call("batch", mode="write", statements=[{"sql": "INSERT INTO t VALUES (3)"}])
        self.assertFalse(answer["ok"], answer)
        self.assertEqual(self.primary_rows("SELECT id FROM t"), [[1]])
        replica.ok("sync")
        self.assert_same_as_primary(replica)


def grpc_call(http, method, message, token=None, session=None, content_type=GRPC_CONTENT_TYPE, body=None):
    headers = {"Content-Type": content_type, "te": "trailers"}
    if token:
        headers["x-authorization"] = f"Bearer {token}"
    if session:
        headers["x-session-token"] = session
    resp = http.request("POST", f"/wal_log.ReplicationLog/{method}", frame(message) if body is None else body, headers)
    if resp.status != 200:
        raise AssertionError(f"{method}: HTTP {resp.status} {resp.raw[:500]!r}")
    return GrpcReply(resp)


class ProtocolErrorsTest(ServerTestCase):
    def start(self, *flags):
        self.server = self.start_server(*flags)
        self.http = self.client(self.server)

    def hello(self, token=None):
        reply = grpc_call(self.http, "Hello", f_varint(1, 1), token)
        self.assertEqual(reply.status, 0, reply.message)
        return decode(reply.messages[0])[4][0].decode()

    def assert_trailers_only(self, reply, status, message=None):
        self.assertEqual((reply.status, reply.messages), (status, []), reply.message)
        if message is not None:
            self.assertEqual(reply.message, message)

    def test_batch_log_entries_without_or_with_a_stale_session_is_no_hello(self):
        self.start()
        for method in ("BatchLogEntries", "Snapshot"):
            self.assert_trailers_only(grpc_call(self.http, method, b""), 9, "NO_HELLO")
            self.assert_trailers_only(grpc_call(self.http, method, b"", session=str(uuid.uuid4())), 9, "NO_HELLO")
        session = self.hello()
        uuid.UUID(session)
        reply = grpc_call(self.http, "BatchLogEntries", f_varint(1, 1), session=session)  # nothing yet: no frames
        self.assertEqual((reply.status, reply.messages), (0, [b""]), reply.message)
        self.assertEqual(self.server.stop(), 0)
        self.server = self.start_custom_server(Server(self.server.workdir, self.server.serve_args, self.server.port))
        self.http = self.client(self.server)
        self.assert_trailers_only(grpc_call(self.http, "BatchLogEntries", b"", session=session), 9, "NO_HELLO")
        self.assertNotEqual(self.hello(), session)

    def test_malformed_requests_are_invalid_argument_and_log_entries_unimplemented(self):
        self.start()
        session = self.hello()
        for name, body in (("a short frame", b"\x00\x00\x00\x00\x09ab"), ("bad protobuf", frame(b"\x0a\x05ab")),
                           ("a compressed frame", b"\x01" + frame(b"")[1:])):
            with self.subTest(name):
                reply = grpc_call(self.http, "BatchLogEntries", b"", session=session, body=body)
                self.assert_trailers_only(reply, 3)
                self.assertTrue(reply.message)
        reply = grpc_call(self.http, "BatchLogEntries", b"", session=session, content_type="application/json")
        self.assert_trailers_only(reply, 3)
        self.assertIn("UNSUPPORTED_MEDIA_TYPE", reply.message)
        # gRPC-web's other spelling of the same content type is accepted.
        reply = grpc_call(self.http, "BatchLogEntries", b"", session=session, content_type="application/grpc-web+proto")
        self.assertEqual(reply.status, 9, reply.message)  # offset 0 of a log that starts at 1: a snapshot
        self.assertEqual(reply.message, "NEED_SNAPSHOT")
        self.assert_trailers_only(grpc_call(self.http, "LogEntries", b"", session=session), 12)

    def test_hello_needs_a_token_when_auth_is_on(self):
        tokens = {"read": new_token()}
        auth = os.path.join(self.make_tempdir(), "auth.yaml")
        with open(auth, "w", encoding="utf-8") as out:
            out.write(auth_file_text([("reader", tokens["read"], "read")]))
        self.start("--auth", auth)
        self.assert_trailers_only(grpc_call(self.http, "Hello", f_varint(1, 1)), 16)
        self.assert_trailers_only(grpc_call(self.http, "Hello", f_varint(1, 1), token="mlt_wrong"), 16)
        self.assert_trailers_only(grpc_call(self.http, "BatchLogEntries", b""), 16)
        self.hello(tokens["read"])


if __name__ == "__main__":
    unittest.main()
