"""libSQL's write proxy (proxy.Proxy over gRPC-web), as embedded replicas use it.

Raw gRPC-web requests built by the small Protobuf encoder below: Execute with
positional and named parameters of every type, SQL errors as QueryResult
errors, transactional programs with conditions, a transaction left open across
Executes, Disconnect, a transaction rolled back by the timeout, Describe, roles
and tokens, malformed bodies and content types. Then the real client
(@libsql/client embedded replica, test/clients/embedded_writes.mjs).
"""

import base64
import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest
import uuid

from harness import HOST, ServerTestCase, bearer, launch_server
from test_security import auth_file_text

GRPC_CONTENT_TYPE = "application/grpc-web"
TRANSACTION_TIMEOUT_S = 1.0
CLIENTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "clients")
NODE_TIMEOUT_S = 120.0

# ------------------------------------------------------------------ protobuf


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def f_varint(number, n):
    return varint(number << 3) + varint(n)


def f_bytes(number, data):
    data = data.encode() if isinstance(data, str) else data
    return varint((number << 3) | 2) + varint(len(data)) + data


def decode(buf):
    """{field number: [values]}: ints for varints, bytes for length-delimited fields."""
    out, pos = {}, 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 2:
            size, pos = read_varint(buf, pos)
            value, pos = bytes(buf[pos:pos + size]), pos + size
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.setdefault(number, []).append(value)
    return out


def read_varint(buf, pos):
    value, shift = 0, 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def signed(n):
    return n - (1 << 64) if n >= 1 << 63 else n


# ------------------------------------------------------ libSQL proxy messages


def bincode(v):
    if v is None:
        return struct.pack("<I", 0)
    if isinstance(v, int):
        return struct.pack("<Iq", 1, v)
    if isinstance(v, float):
        return struct.pack("<Id", 2, v)
    if isinstance(v, str):
        return struct.pack("<IQ", 3, len(v.encode())) + v.encode()
    return struct.pack("<IQ", 4, len(v)) + bytes(v)


def unbincode(b):
    tag = struct.unpack_from("<I", b)[0]
    if tag == 0:
        return None
    if tag == 1:
        return struct.unpack_from("<q", b, 4)[0]
    if tag == 2:
        return struct.unpack_from("<d", b, 4)[0]
    raw = b[12:12 + struct.unpack_from("<Q", b, 4)[0]]
    return raw.decode() if tag == 3 else raw


def value_msg(v):
    return f_bytes(1, bincode(v))


def query(sql, args=(), named=None, skip_rows=False):
    out = f_bytes(1, sql)
    if named is not None:
        names = b"".join(f_bytes(1, k) for k in named)
        values = b"".join(f_bytes(2, value_msg(v)) for v in named.values())
        out += f_bytes(3, names + values)
    else:
        out += f_bytes(2, b"".join(f_bytes(1, value_msg(a)) for a in args))
    if skip_rows:
        out += f_varint(4, 1)
    return out


def ok(step):
    return f_bytes(1, f_varint(1, step) if step else b"")


def not_(cond):
    return f_bytes(3, f_bytes(1, cond))


def program(client_id, *steps):
    """steps: query bytes, or (query bytes, cond bytes)."""
    body = b""
    for s in steps:
        q, cond = s if isinstance(s, tuple) else (s, None)
        body += f_bytes(1, (f_bytes(1, cond) if cond else b"") + f_bytes(2, q))
    return f_bytes(1, client_id) + f_bytes(2, body)


def parse_execute(msg):
    """ExecuteResults → ([("rows", {...}) | ("error", {...}) | ("skipped", None)], state, frame_no)."""
    top = decode(msg)
    results = []
    for qr in top.get(1, []):
        d = decode(qr)
        if 1 in d:
            e = decode(d[1][0])
            results.append(("error", {"code": e.get(1, [0])[0], "message": e.get(2, [b""])[0].decode(),
                                      "extended": e.get(3, [0])[0]}))
        elif 2 in d:
            r = decode(d[2][0])
            results.append(("rows", {
                "columns": [decode(c)[1][0].decode() for c in r.get(1, [])],
                "rows": [[unbincode(decode(v)[1][0]) for v in decode(row).get(1, [])] for row in r.get(2, [])],
                "affected": r.get(3, [0])[0],
                "last_insert_rowid": signed(r[4][0]) if 4 in r else None}))
        else:
            results.append(("skipped", None))
    return results, top.get(2, [0])[0], top.get(3, [None])[0]


# ------------------------------------------------------------------ gRPC-web


def frame(message):
    return b"\x00" + struct.pack(">I", len(message)) + message


class GrpcReply:
    def __init__(self, resp):
        self.http_status = resp.status
        self.content_type = resp.header("content-type")
        self.status, self.message, self.messages = None, None, []
        if resp.header("grpc-status") is not None:  # trailers-only
            self.status, self.message = int(resp.header("grpc-status")), resp.header("grpc-message") or ""
            return
        body, pos = resp.raw, 0
        while pos < len(body):
            flag, size = body[pos], struct.unpack(">I", body[pos + 1:pos + 5])[0]
            chunk = body[pos + 5:pos + 5 + size]
            pos += 5 + size
            if flag & 0x80:
                trailers = dict(line.split(":", 1) for line in chunk.decode().split("\r\n") if line)
                self.status, self.message = int(trailers["grpc-status"]), trailers.get("grpc-message", "")
            else:
                self.messages.append(chunk)


# ------------------------------------------------------------------- tests


class ProxyTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = tempfile.TemporaryDirectory(prefix="monolite-it-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tokens = {role: f"mlt_{role}_{uuid.uuid4().hex}" for role in ("read", "write")}
        auth = os.path.join(tmp.name, "auth.yaml")
        with open(auth, "w", encoding="utf-8") as out:
            out.write(auth_file_text([(f"{r}-client", t, r) for r, t in cls.tokens.items()]))
        cls.server = launch_server(tmp.name, ("--auth", auth, "--transaction-timeout", str(TRANSACTION_TIMEOUT_S)))
        cls.addClassCleanup(cls.server.stop_and_check)

    def setUp(self):
        super().setUp()
        self.http = self.client(self.server, headers=bearer(self.tokens["read"]))  # /sql/query checks
        self.grpc = self.client(self.server)  # tokens as the gRPC clients send them: x-authorization
        self.table = "t_" + uuid.uuid4().hex[:8]
        self.client_id = str(uuid.uuid4())

    def call(self, method, message, role="write", content_type=GRPC_CONTENT_TYPE, body=None):
        headers = {"Content-Type": content_type, "te": "trailers"}
        if role:
            headers["x-authorization"] = f"Bearer {self.tokens[role]}"
        resp = self.grpc.request("POST", f"/proxy.Proxy/{method}", frame(message) if body is None else body, headers)
        self.assertEqual(resp.status, 200, resp.raw[:500])
        return GrpcReply(resp)

    def execute(self, *steps, client_id=None):
        reply = self.call("Execute", program(client_id or self.client_id, *steps))
        self.assertEqual(reply.status, 0, reply.message)
        self.assertEqual(len(reply.messages), 1)
        return parse_execute(reply.messages[0])

    def create_table(self):
        results, _, _ = self.execute(query(f"CREATE TABLE {self.table}(id INTEGER PRIMARY KEY, s, i, r, b, n)"))
        self.assertEqual(results[0][0], "rows", results)

    def rows(self):
        resp = self.http.query(f"SELECT id, s, i, r, b, n FROM {self.table} ORDER BY id")
        self.assertEqual(resp.status, 200, resp.raw)
        return resp.body["rows"]

    def test_insert_with_positional_and_named_parameters_of_every_type(self):
        self.create_table()
        results, state, frame_no = self.execute(
            query(f"INSERT INTO {self.table} (s, i, r, b, n) VALUES (?, ?, ?, ?, ?)", ("hé", -7, 2.5, b"\x00\xff", None)),
            query(f"INSERT INTO {self.table} (s, i, r, b, n) VALUES (:s, @i, $r, :b, :n)",
                  named={":s": "x", "@i": 2**62, "$r": -0.5, "b": b"z", "n": None}))
        self.assertEqual(state, 0)
        self.assertIsInstance(frame_no, int)  # the replication log's frame of the commit: read-your-writes
        self.assertGreater(frame_no, 0)
        self.assertEqual([kind for kind, _ in results], ["rows", "rows"], results)
        self.assertEqual(results[0][1]["affected"], 1)
        self.assertEqual(results[0][1]["last_insert_rowid"], 1)
        self.assertEqual(results[1][1]["last_insert_rowid"], 2)
        blob = lambda b: {"base64": base64.b64encode(b).decode()}  # noqa: E731
        self.assertEqual(self.rows(), [[1, "hé", -7, 2.5, blob(b"\x00\xff"), None], [2, "x", 2**62, -0.5, blob(b"z"), None]])
        results, _, read_frame_no = self.execute(query(f"SELECT s, i, r, b, n FROM {self.table} WHERE id = ?", (1,)))
        self.assertGreaterEqual(read_frame_no, frame_no)
        self.assertEqual(results[0][1]["columns"], ["s", "i", "r", "b", "n"])
        self.assertEqual(results[0][1]["rows"], [["hé", -7, 2.5, b"\x00\xff", None]])

    def test_an_sql_error_is_the_step_s_error_and_later_steps_still_run(self):
        self.create_table()
        results, state, _ = self.execute(query("INSERT INTO no_such_table VALUES (1)"),
                                         query(f"INSERT INTO {self.table} (id) VALUES (1)"))
        self.assertEqual(results[0][0], "error", results)
        self.assertIn("no such table", results[0][1]["message"])
        self.assertEqual(results[0][1]["code"], 0)  # SQL_ERROR
        self.assertEqual(results[0][1]["extended"], 1)  # SQLITE_ERROR
        self.assertEqual(results[1][0], "rows")
        self.assertEqual(state, 0)

    def test_a_transactional_program_commits_or_rolls_back_by_its_conditions(self):
        self.create_table()
        insert = lambda i: query(f"INSERT INTO {self.table} (id) VALUES (?)", (i,))  # noqa: E731
        steps = lambda a, b: [query("BEGIN"), (insert(a), ok(0)), (insert(b), ok(1)),  # noqa: E731
                              (query("COMMIT"), ok(2)), (query("ROLLBACK"), not_(ok(3)))]
        results, state, _ = self.execute(*steps(1, 2))
        self.assertEqual([k for k, _ in results], ["rows"] * 4 + ["skipped"], results)
        self.assertEqual(state, 0)
        results, state, _ = self.execute(*steps(3, 1))  # 1 again: the primary key fails the step
        self.assertEqual([k for k, _ in results], ["rows", "rows", "error", "skipped", "rows"], results)
        self.assertIn("UNIQUE", results[2][1]["message"])
        self.assertEqual(results[2][1]["extended"], 19)  # SQLITE_CONSTRAINT
        self.assertEqual(state, 0)
        self.assertEqual([r[0] for r in self.rows()], [1, 2])

    def test_a_transaction_left_open_spans_executes_until_committed(self):
        self.create_table()
        _, state, _ = self.execute(query("BEGIN"), query(f"INSERT INTO {self.table} (id) VALUES (1)"))
        self.assertEqual(state, 2)  # TXN
        self.assertEqual(self.rows(), [])  # not committed yet
        results, state, _ = self.execute(query(f"SELECT count(*) FROM {self.table}"))
        self.assertEqual(results[0][1]["rows"], [[1]])  # the same transaction sees its row
        self.assertEqual(state, 2)
        results, state, _ = self.execute(query(f"INSERT INTO {self.table} (id) VALUES (2)"), query("COMMIT"))
        self.assertEqual([k for k, _ in results], ["rows", "rows"], results)
        self.assertEqual(state, 0)
        self.assertEqual([r[0] for r in self.rows()], [1, 2])

    def test_disconnect_rolls_the_open_transaction_back(self):
        self.create_table()
        _, state, _ = self.execute(query("BEGIN"), query(f"INSERT INTO {self.table} (id) VALUES (1)"))
        self.assertEqual(state, 2)
        reply = self.call("Disconnect", f_bytes(1, self.client_id), role="read")
        self.assertEqual((reply.status, reply.messages), (0, [b""]))
        self.assertEqual(self.rows(), [])
        results, state, _ = self.execute(query(f"INSERT INTO {self.table} (id) VALUES (3)"))
        self.assertEqual((results[0][0], state), ("rows", 0))  # a new stream, in autocommit
        self.assertEqual([r[0] for r in self.rows()], [3])
        reply = self.call("Disconnect", f_bytes(1, str(uuid.uuid4())), role="read")  # unknown client: Ack too
        self.assertEqual(reply.status, 0)

    def test_a_transaction_rolled_back_by_the_timeout_is_reported_to_its_client(self):
        self.create_table()
        _, state, _ = self.execute(query("BEGIN"), query(f"INSERT INTO {self.table} (id) VALUES (1)"))
        self.assertEqual(state, 2)
        # Another client's write can only commit once the timeout rolled the open transaction back.
        results, _, _ = self.execute(query(f"INSERT INTO {self.table} (id) VALUES (2)"), client_id=str(uuid.uuid4()))
        self.assertEqual(results[0][0], "rows", results)
        reply = self.call("Execute", program(self.client_id, query(f"INSERT INTO {self.table} (id) VALUES (3)"),
                                             query("COMMIT")))
        self.assertEqual(reply.status, 9, reply.message)  # FAILED_PRECONDITION
        self.assertIn("TRANSACTION_GONE", reply.message)
        self.assertIn("rolled back", reply.message)
        self.assertEqual([r[0] for r in self.rows()], [2])
        results, state, _ = self.execute(query(f"INSERT INTO {self.table} (id) VALUES (4)"))  # the client goes on
        self.assertEqual((results[0][0], state), ("rows", 0))

    def test_describe_gives_padded_parameter_names_and_columns(self):
        self.create_table()
        reply = self.call("Describe", f_bytes(1, self.client_id) + f_bytes(2, f"SELECT s, ? FROM {self.table} WHERE "
                                                                              "id = :id"), role="read")
        self.assertEqual(reply.status, 0, reply.message)
        description = decode(decode(reply.messages[0])[2][0])
        self.assertEqual([n.decode() for n in description[2]], ["", "", ":id"])
        self.assertEqual(description[3], [2])
        self.assertEqual([decode(c)[1][0].decode() for c in description[1]], ["s", "?"])
        reply = self.call("Describe", f_bytes(1, self.client_id) + f_bytes(2, "INSERT INTO nope VALUES (1)"))
        self.assertEqual(reply.status, 0, reply.message)
        error = decode(decode(reply.messages[0])[1][0])
        self.assertIn("no such table", error[2][0].decode())

    def test_tokens_and_roles(self):
        message = program(self.client_id, query("SELECT 1"))
        reply = self.call("Execute", message, role=None)
        self.assertEqual(reply.status, 16)  # UNAUTHENTICATED, as a header
        reply = self.call("Execute", message, role="read")
        self.assertEqual(reply.status, 7)  # PERMISSION_DENIED
        reply = self.call("Describe", f_bytes(2, "SELECT 1"), role=None)
        self.assertEqual(reply.status, 16)
        reply = self.call("Describe", f_bytes(2, "SELECT 1"), role="read")
        self.assertEqual(reply.status, 0, reply.message)

    def test_malformed_requests_are_invalid_argument(self):
        for name, body in (("a short frame", b"\x00\x00\x00\x00\x09ab"),
                           ("bad protobuf", frame(b"\x12\x05ab")),
                           ("bad bincode", frame(program(self.client_id, f_bytes(1, "SELECT ?") + f_bytes(
                               2, f_bytes(1, f_bytes(1, b"\x09\x00\x00\x00")))))),
                           ("too many steps", frame(program(self.client_id, *[query("SELECT 1")] * 1001)))):
            with self.subTest(name):
                reply = self.call("Execute", b"", body=body)
                self.assertEqual(reply.status, 3, reply.message)  # INVALID_ARGUMENT
                self.assertTrue(reply.message)
        reply = self.call("Execute", program(self.client_id, query("SELECT 1")), content_type="application/json")
        self.assertEqual(reply.status, 3)
        self.assertIn("UNSUPPORTED_MEDIA_TYPE", reply.message)

    def test_an_embedded_replica_s_writes_reach_the_server(self):
        """@libsql/client with an embedded replica: its writes go through proxy.Proxy."""
        if not shutil.which("node"):
            self.fail("node is not installed")
        local_db = os.path.join(self.make_tempdir(), "local.db")
        done = subprocess.run(["node", "embedded_writes.mjs", f"http://{HOST}:{self.server.port}", local_db,
                               self.tokens["write"]],
                              capture_output=True, text=True, timeout=NODE_TIMEOUT_S, cwd=CLIENTS_DIR)
        self.assertEqual(done.returncode, 0, done.stderr[-2000:])
        report = json.loads(done.stdout.strip().splitlines()[-1])
        resp = self.http.query("SELECT id, name FROM embedded ORDER BY id")
        self.assertEqual(resp.status, 200, (resp.raw, report))
        self.assertEqual(resp.body["rows"], [[1, "one"], [2, "two"]], report)
        # Every write succeeded, the sync the client runs after it too: the rows are read back locally.
        for step in ("create", "insert_positional", "insert_named", "local_read"):
            self.assertIsNone(report[step], report)
        self.assertEqual(report["rows_affected"], 1, report)
        self.assertEqual(report["local_rows"], [[1, "one"], [2, "two"]], report)


if __name__ == "__main__":
    unittest.main()
