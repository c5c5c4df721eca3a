"""Shared helpers for the monolite integration tests.

Starts and stops `monolite serve` processes, talks HTTP/JSON to them (through
http.client or a raw socket) and generates write load from several threads.
Every wait in this module is bounded in time.
"""

import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import unittest
from dataclasses import dataclass, field
from functools import cached_property

DEFAULT_BINARY = "/work/main/build/release/monolite"
HOST = "127.0.0.1"
READY_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 15.0
CLI_TIMEOUT_S = 15.0
HTTP_TIMEOUT_S = 60.0
START_ATTEMPTS = 3
# Which engine launch_server() gives a server: "sqlite" (a file in the test's folder) or "postgres"
# (a fresh database on the test process's PostgreSQL, see postgres.shared_server()).
ENGINE = os.environ.get("MONOLITE_TEST_ENGINE", "sqlite")
if ENGINE not in ("sqlite", "postgres"):
    raise RuntimeError(f"MONOLITE_TEST_ENGINE must be sqlite or postgres, not {ENGINE!r}")
ON_POSTGRES = ENGINE == "postgres"


def binary_path():
    return os.environ.get("MONOLITE_BIN", DEFAULT_BINARY)


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def child_env(extra=None):
    """The test's environment without any MONOLITE_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONOLITE_")}
    env.update(extra or {})
    return env


def run_cli(args, env=None, cwd=None, timeout=CLI_TIMEOUT_S):
    """Runs `monolite ARGS` to completion; returns the CompletedProcess (text mode)."""
    return subprocess.run([binary_path(), *args], env=child_env(env), cwd=cwd,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=timeout)


def wait_until(predicate, timeout, interval=0.05):
    """Polls `predicate` until it returns a true value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def run_in_threads(count, work, timeout=120.0):
    """Runs work(i) for i in range(count) on `count` threads released together.

    Returns the results in order; re-raises the first exception a thread hit.
    """
    barrier = threading.Barrier(count)
    results = [None] * count
    errors = []

    def run(index):
        try:
            barrier.wait(30)
            results[index] = work(index)
        except Exception as exc:  # reported to the caller below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in threads):
        raise AssertionError(f"threads still running after {timeout}s")
    if errors:
        raise errors[0]
    return results


class Background:
    """Runs work() on a thread; remembers its result or exception and when it ended."""

    def __init__(self, work):
        self.value = None
        self.error = None
        self.finished_at = None
        self._work = work
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            self.value = self._work()
        except Exception as exc:  # handed to the caller by wait()
            self.error = exc
        self.finished_at = time.monotonic()

    def wait(self, timeout):
        """Joins the thread (bounded) and returns the result, re-raising its exception."""
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"background work still running after {timeout}s")
        if self.error is not None:
            raise self.error
        return self.value


# --------------------------------------------------------------------------- HTTP


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


@dataclass
class Response:
    status: int
    headers: dict  # lower-case name -> value
    raw: bytes

    @cached_property
    def body(self):
        """The parsed body, or None unless it is strict JSON (no NaN or Infinity)."""
        try:
            return json.loads(self.raw, parse_constant=_reject_constant)
        except ValueError:
            return None

    def header(self, name):
        return self.headers.get(name.lower())


def stmt(sql, params=None):
    """One element of a `statements` array."""
    return {"sql": sql} if params is None else {"sql": sql, "params": params}


def bearer(token):
    """The Authorization header that presents `token` as a bearer credential."""
    return {"Authorization": f"Bearer {token}"}


class Client:
    """A keep-alive HTTP/1.1 connection to one server.

    `headers` (say, bearer(token)) go with every request; a request's own
    headers override them.
    """

    def __init__(self, port, timeout=HTTP_TIMEOUT_S, headers=None):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.default_headers = dict(headers or {})

    def close(self):
        self.conn.close()

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body,
                          headers={**self.default_headers, **(headers or {})})
        resp = self.conn.getresponse()
        raw = resp.read()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, headers, raw)

    def get(self, path):
        return self.request("GET", path)

    def post_json(self, path, obj):
        body = json.dumps(obj).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def query(self, sql, params=None):
        return self.post_json("/sql/query", stmt(sql, params))

    def execute(self, sql, params=None):
        return self.post_json("/sql/execute", stmt(sql, params))

    def execute_many(self, statements):
        return self.post_json("/sql/execute", {"statements": statements})

    def batch(self, statements):
        return self.post_json("/sql/batch", {"statements": statements})


def raw_request(method, path, body=b"", headers=None):
    """The bytes of one HTTP/1.1 request; JSON content type unless overridden.

    Content-Length is added unless given or the request is chunked (then `body`
    must already be in chunked encoding).
    """
    all_headers = {"Host": HOST, "Content-Type": "application/json"}
    all_headers.update(headers or {})
    if "Transfer-Encoding" not in all_headers and (body or method == "POST"):
        all_headers.setdefault("Content-Length", str(len(body)))
    head = f"{method} {path} HTTP/1.1\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in all_headers.items())
    return (head + "\r\n").encode() + body


def raw_json_request(path, obj):
    return raw_request("POST", path, json.dumps(obj).encode())


def read_response(reader):
    """Reads one HTTP response (Content-Length or chunked) from a binary file object."""
    status_line = reader.readline(65536)
    if not status_line:
        raise ConnectionError("connection closed before a response")
    status = int(status_line.split()[1])
    headers = {}
    while True:
        line = reader.readline(65536).rstrip(b"\r\n")
        if not line:
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        raw = _read_chunked(reader)
    else:
        raw = _read_exact(reader, int(headers.get("content-length", "0")))
    return Response(status, headers, raw)


def _read_exact(reader, size):
    data = reader.read(size)
    if len(data) != size:
        raise ConnectionError(f"short body: {len(data)} of {size} bytes")
    return data


def _read_chunked(reader):
    chunks = []
    while True:
        size = int(reader.readline(65536).split(b";")[0], 16)
        if size == 0:
            reader.readline(65536)
            return b"".join(chunks)
        chunks.append(_read_exact(reader, size))
        reader.readline(65536)


def open_socket(port, timeout=HTTP_TIMEOUT_S):
    return socket.create_connection((HOST, port), timeout=timeout)


def closed_by_peer(sock, timeout):
    """True when the peer closes `sock` (EOF or reset) within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


# ------------------------------------------------------------------------ server


class Server:
    """One `monolite serve` process with stderr captured to a log file."""

    def __init__(self, workdir, serve_args, port, env=None, cwd=None):
        self.workdir = workdir
        self.serve_args = list(serve_args)
        self.port = port
        self.env = env
        self.cwd = cwd
        self.log_path = os.path.join(workdir, f"server-{port}-{time.monotonic_ns()}.log")
        self.proc = None
        self.signalled = False  # whether the test (or this class) sent it a signal
        self.db = self.serve_args[self.serve_args.index("--db") + 1] if "--db" in self.serve_args else None

    def start(self, timeout=READY_TIMEOUT_S):
        """Starts the process and waits for /healthz. With port None, the port is
        taken from the "listening" log line."""
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([binary_path(), "serve", *self.serve_args],
                                         env=child_env(self.env), cwd=self.cwd,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        if self.port is None:
            self.port = wait_until(self.logged_port, timeout)
        if not self.port or not self.wait_healthy(timeout):
            alive = self.proc.poll() is None
            self.stop()
            raise RuntimeError(f"server not healthy within {timeout}s "
                               f"(alive={alive}); log:\n{self.log_tail()}")
        return self

    def wait_healthy(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            if self._healthz_ok():
                return True
            time.sleep(0.05)
        return False

    def _healthz_ok(self):
        client = Client(self.port, timeout=1.0)
        try:
            return client.get("/healthz").status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            client.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.running():
            self.signalled = True
            os.kill(self.proc.pid, sig)

    def wait(self, timeout):
        """The exit code, or None when the process is still running after `timeout`."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM, bounded wait, then SIGKILL. Returns the exit code."""
        if self.proc is None:
            return None
        self.send_signal(signal.SIGTERM)
        code = self.wait(timeout)
        if code is None:
            self.kill9()
            code = self.proc.returncode
        return code

    def stop_and_check(self):
        """Cleanup helper: stops a server that is still running; it must exit 0.

        A server the test already stopped or killed is left alone (the test
        checked its exit itself); one that died on its own is reported. Under
        sanitizers a nonzero exit is a finding.
        """
        if self.proc is None:
            return
        if not self.running():
            if not self.signalled:
                raise AssertionError(f"server died on its own with {self.proc.returncode}; "
                                     f"log:\n{self.log_tail()}")
            return
        code = self.stop()
        if code != 0:
            raise AssertionError(f"server exited with {code} on SIGTERM; log:\n{self.log_tail()}")

    def kill9(self):
        if self.proc is None:
            return None
        self.send_signal(signal.SIGKILL)
        return self.proc.wait(STOP_TIMEOUT_S)

    def client(self, timeout=HTTP_TIMEOUT_S, headers=None):
        return Client(self.port, timeout, headers)

    def log_text(self):
        with open(self.log_path, "rb") as log:
            return log.read().decode("utf-8", "replace")

    def log_tail(self, lines=40):
        """The last lines of the log; a sanitizer's report whole, from its first line (its stacks
        are what a failure under ASan or TSan is about, and they do not fit in the tail)."""
        text = self.log_text()
        for marker in ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer", "ERROR: LeakSanitizer",
                       "runtime error:"):
            at = text.find(marker)
            if at >= 0:
                return text[text.rfind("\n", 0, at) + 1:]
        return "\n".join(text.splitlines()[-lines:])

    def logged_port(self):
        """The port of the last "listening" log line, or None."""
        ports = [r.get("port") for r in self.log_records() if r.get("msg") == "listening"]
        return ports[-1] if ports else None

    def log_records(self):
        """Every stderr line that parses as a JSON object."""
        records = []
        for line in self.log_text().splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records


def serve_args(db_path, port, extra=()):
    return ["--db", db_path, "--listen", f"{HOST}:{port}", *extra]


def is_postgres_url(db):
    return db.startswith(("postgres://", "postgresql://"))


def new_database(workdir):
    """--db for a new server of the test's ENGINE: app.db in `workdir`, or a fresh PostgreSQL database."""
    if ON_POSTGRES:
        import postgres  # imports this module: only when needed
        return postgres.new_shared_database_url()
    return os.path.join(workdir, "app.db")


def launch_server(workdir, extra=(), db_path=None, env=None):
    """Starts a server on a free port (retrying if the port got taken meanwhile).

    Without `db_path`, its database is new_database(workdir); server.db says which.
    The caller owns the returned Server and must stop() it.
    """
    db_path = db_path or new_database(workdir)
    for attempt in range(START_ATTEMPTS):
        port = free_port()
        server = Server(workdir, serve_args(db_path, port, extra), port, env)
        try:
            return server.start()
        except RuntimeError:
            if attempt == START_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class ServerTestCase(unittest.TestCase):
    """Base class: temp dirs, servers and clients that are always cleaned up."""

    on_postgres = ON_POSTGRES  # tests branch on it where the engines differ (docs/api.md)

    def make_tempdir(self):
        tmp = tempfile.TemporaryDirectory(prefix="monolite-it-")
        self.addCleanup(tmp.cleanup)
        return tmp.name

    def start_server(self, *extra, db_path=None, env=None, workdir=None):
        server = launch_server(workdir or self.make_tempdir(), extra, db_path, env)
        self.addCleanup(server.stop_and_check)
        return server

    def start_custom_server(self, server):
        self.addCleanup(server.stop_and_check)
        return server.start()

    def psql(self, server, sql):
        """`sql` run by psql on the database `server` serves (as its user): rows of text."""
        self.assertTrue(server.db and is_postgres_url(server.db), f"not a PostgreSQL server: {server.db}")
        import postgres
        return postgres.psql_at(server.db, sql)

    def client(self, server, timeout=HTTP_TIMEOUT_S, headers=None):
        client = server.client(timeout, headers)
        self.addCleanup(client.close)
        return client

    def socket(self, server, timeout=HTTP_TIMEOUT_S):
        sock = open_socket(server.port, timeout)
        self.addCleanup(sock.close)
        return sock

    def send_and_read(self, server, payload, timeout=HTTP_TIMEOUT_S):
        """Sends raw bytes on a new connection; returns (socket, the first response)."""
        sock = self.socket(server, timeout)
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        return sock, read_response(sock.makefile("rb"))

    def assert_json_response(self, resp, status):
        self.assertEqual(resp.status, status, resp.raw[:2000])
        content_type = resp.header("content-type") or ""
        self.assertTrue(content_type.startswith("application/json"),
                        f"content-type {content_type!r}")
        self.assertIsNotNone(resp.body, f"body is not JSON: {resp.raw[:2000]!r}")
        return resp.body

    def assert_ok(self, resp):
        return self.assert_json_response(resp, 200)

    def assert_error(self, resp, status, code):
        body = self.assert_json_response(resp, status)
        error = body.get("error") if isinstance(body, dict) else None
        self.assertIsInstance(error, dict, body)
        self.assertEqual(error.get("code"), code, body)
        self.assertIsInstance(error.get("message"), str, body)
        self.assertTrue(error["message"], body)
        return error

    def query_rows(self, client, sql, params=None):
        return self.assert_ok(client.query(sql, params))["rows"]

    def query_value(self, client, sql, params=None):
        return self.query_rows(client, sql, params)[0][0]

    def execute_ok(self, client, sql, params=None):
        return self.assert_ok(client.execute(sql, params))["results"][0]


class SharedServerTestCase(ServerTestCase):
    """One server for the whole class; every test gets its own client as self.http."""

    server_flags = ()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = tempfile.TemporaryDirectory(prefix="monolite-it-")
        cls.addClassCleanup(tmp.cleanup)
        cls.server = launch_server(tmp.name, cls.server_flags)
        cls.addClassCleanup(cls.server.stop_and_check)

    def setUp(self):
        super().setUp()
        self.http = self.client(self.server)


# -------------------------------------------------------------------- write load

LOAD_SCHEMA = ("CREATE TABLE IF NOT EXISTS load("
               "id INTEGER PRIMARY KEY, writer INTEGER NOT NULL, seq INTEGER NOT NULL)")
WRITER_ID_STRIDE = 1_000_000


def load_insert(row_id, writer, seq):
    return stmt("INSERT INTO load(id, writer, seq) VALUES (?, ?, ?)", [row_id, writer, seq])


@dataclass
class WriterStats:
    acked: set = field(default_factory=set)  # ids whose insert was answered 200
    statuses: list = field(default_factory=list)  # (status, error code or None)
    failures: list = field(default_factory=list)  # transport exceptions


class WriteLoad:
    """Threads that each insert rows into `load` over their own connection.

    Row ids are writer * WRITER_ID_STRIDE + seq. With pairs=True every request
    is a two-statement execute inserting id and -id, so a crash must leave
    either both rows or neither.
    """

    def __init__(self, port, writers, per_writer=WRITER_ID_STRIDE - 1, pairs=False,
                 first_writer=0, duration_s=120.0):
        self.port = port
        self.first_writer = first_writer
        self.per_writer = per_writer
        self.pairs = pairs
        self.duration_s = duration_s
        self.stop_event = threading.Event()
        self.start_barrier = threading.Barrier(writers)
        self.stats = [WriterStats() for _ in range(writers)]
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True)
                        for w in range(writers)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        self.stop_event.set()

    def join(self, timeout=120.0):
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in self.threads if t.is_alive()]
        if alive:
            raise AssertionError(f"{len(alive)} writer threads still running")

    def acked(self):
        """Acknowledged ids; call after join()."""
        return set().union(*(s.acked for s in self.stats))

    def acked_count(self):
        """Safe while the writers run."""
        return sum(len(s.acked) for s in self.stats)

    def statuses(self):
        return [status for s in self.stats for status in s.statuses]

    def failures(self):
        return [failure for s in self.stats for failure in s.failures]

    def _statements(self, row_id, writer, seq):
        if self.pairs:
            return [load_insert(row_id, writer, seq), load_insert(-row_id, writer, seq)]
        return [load_insert(row_id, writer, seq)]

    def _run(self, writer):
        stats = self.stats[writer]
        client = Client(self.port)
        deadline = time.monotonic() + self.duration_s
        try:
            self.start_barrier.wait(30)
            for seq in range(1, self.per_writer + 1):
                if self.stop_event.is_set() or time.monotonic() > deadline:
                    break
                writer_id = self.first_writer + writer
                row_id = writer_id * WRITER_ID_STRIDE + seq
                try:
                    resp = client.execute_many(self._statements(row_id, writer_id, seq))
                except (OSError, http.client.HTTPException) as exc:
                    stats.failures.append(exc)
                    break  # the server is gone; keep only what was acknowledged
                body = resp.body if isinstance(resp.body, dict) else {}
                stats.statuses.append((resp.status, body.get("error", {}).get("code")))
                if resp.status == 200:
                    stats.acked.add(row_id)
        except threading.BrokenBarrierError as exc:
            stats.failures.append(exc)
        finally:
            client.close()


def read_load_ids(client):
    resp = client.query("SELECT id FROM load ORDER BY id")
    if resp.status != 200:
        raise AssertionError(f"reading load ids failed: {resp.status} {resp.raw[:500]!r}")
    return {row[0] for row in resp.body["rows"]}


def unpaired_ids(ids):
    """Ids of a pairs=True load whose mirror row (-id) is missing."""
    return {i for i in ids if -i not in ids}


def db_file_integrity(db_path):
    """PRAGMA integrity_check rows, read with Python's sqlite3; the server must be dead."""
    return [row[0] for row in db_file_rows(db_path, "PRAGMA integrity_check")]


def db_file_rows(db_path, sql):
    conn = sqlite3.connect(db_path, timeout=5)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def db_file_load_ids(db_path):
    return {row[0] for row in db_file_rows(db_path, "SELECT id FROM load")}
