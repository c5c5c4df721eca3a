"""Helpers for the replication drills (test_replication*.py, test_restore_cli.py).

Replica URLs and object listings, the restore/generations/verify commands, Prometheus metrics,
a write load that records when each id was acknowledged, and a fault-injecting HTTP proxy to
put between monolite and an S3-compatible store. Every wait here is bounded in time.
"""

import http.client
import os
import random
import re
import socket
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone

from harness import (HOST, WRITER_ID_STRIDE, Client, ServerTestCase, db_file_integrity, db_file_load_ids,
                     free_port, load_insert, run_cli, unpaired_ids)

RESTORE_TIMEOUT_S = 120.0
GENERATION_RE = re.compile(r"\b(\d{8}T\d{6}Z-[0-9a-f]{8})\b")
SNAPSHOT_KEY_RE = re.compile(
    r"^generations/(\d{8}T\d{6}Z-[0-9a-f]{8})/snapshots/([0-9a-f]{8})-([0-9a-f]{8})_"
    r"(\d{8}T\d{6}\.\d{3}Z)\.snapshot\.lz4$")
SEGMENT_KEY_RE = re.compile(
    r"^generations/(\d{8}T\d{6}Z-[0-9a-f]{8})/wal/([0-9a-f]{8})-([0-9a-f]{8})-([0-9a-f]{8})_"
    r"(\d{8}T\d{6}\.\d{3}Z)_(\d{8}T\d{6}\.\d{3}Z)\.wal\.lz4$")
METRIC_RE = re.compile(r'^(monolite_replica_[a-z_]+)\{replica="([^"]*)"\}\s+(\S+)$')

# Flags that keep the drills short: uploads every 100 ms.
FAST = ("--replica-interval", "100ms")


# ------------------------------------------------------------------------- names and times


def file_url(path):
    return "file://" + os.path.abspath(path)


def rfc3339(epoch_s):
    """An RFC 3339 UTC time with milliseconds (truncated), as `restore --timestamp` takes it."""
    ms = int(epoch_s * 1000)
    dt = datetime.fromtimestamp(ms // 1000, timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def compact_epoch(text):
    """YYYYMMDDTHHMMSS.mmmZ (the layout's object-name times) -> Unix seconds."""
    dt = datetime.strptime(text, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc)
    return dt.timestamp()


@dataclass(frozen=True)
class SnapshotObject:
    key: str
    generation: str
    index: int
    frame: int
    time_s: float


@dataclass(frozen=True)
class SegmentObject:
    key: str
    generation: str
    index: int
    first_frame: int
    last_frame: int
    first_time_s: float
    last_time_s: float


def parse_layout(keys):
    """(snapshots, segments, others) for object keys relative to the replica root."""
    snapshots, segments, others = [], [], []
    for key in keys:
        snap = SNAPSHOT_KEY_RE.match(key)
        seg = SEGMENT_KEY_RE.match(key)
        if snap:
            g, index, frame, t = snap.groups()
            snapshots.append(SnapshotObject(key, g, int(index, 16), int(frame, 16), compact_epoch(t)))
        elif seg:
            g, index, first, last, t1, t2 = seg.groups()
            segments.append(SegmentObject(key, g, int(index, 16), int(first, 16), int(last, 16),
                                          compact_epoch(t1), compact_epoch(t2)))
        else:
            others.append(key)
    snapshots.sort(key=lambda s: (s.generation, s.index, s.frame))
    segments.sort(key=lambda s: (s.generation, s.index, s.first_frame))
    return snapshots, segments, others


def file_replica_keys(root):
    """Every object key under a file replica's root (puts in progress excluded), sorted."""
    keys = []
    for folder, _, files in os.walk(root):
        for name in files:
            if ".tmp" in name:
                continue
            keys.append(os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/"))
    return sorted(keys)


# ---------------------------------------------------------------------------- commands


def restore(output, url, *extra, env=None, timeout=RESTORE_TIMEOUT_S):
    return run_cli(["restore", "-o", output, "--replica", url, *extra], env=env, timeout=timeout)


def generations(url, env=None):
    """(CompletedProcess, generation ids in the order listed)."""
    done = run_cli(["generations", "--replica", url], env=env, timeout=60)
    return done, GENERATION_RE.findall(done.stdout)


# ------------------------------------------------------------------------------ metrics


def replica_metrics(client):
    """{metric name: {replica label: value}} from /metrics."""
    resp = client.get("/metrics")
    if resp.status != 200:
        raise AssertionError(f"/metrics answered {resp.status}: {resp.raw[:300]!r}")
    out = {}
    for line in resp.raw.decode().splitlines():
        match = METRIC_RE.match(line.strip())
        if match:
            out.setdefault(match.group(1), {})[match.group(2)] = float(match.group(3))
    return out


METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
STRICT_HELP_RE = re.compile(rf"^# HELP ({METRIC_NAME}) ((?:[^\\\n]|\\[\\n])*)$")
STRICT_TYPE_RE = re.compile(rf"^# TYPE ({METRIC_NAME}) (counter|gauge|histogram|summary|untyped)$")
STRICT_SAMPLE_RE = re.compile(rf"^({METRIC_NAME})(?:\{{(.*)\}})? (\S+)$")
STRICT_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')
LABEL_ESCAPES = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}
FAMILY_SUFFIXES = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("", "_sum", "_count")}


def parse_prometheus_strict(text):
    """[(name, {label: value}, float)] of a Prometheus text exposition; raises AssertionError on any
    line that is not `# HELP name text`, `# TYPE name type` or `name{label="value",...} number` with
    only \\\\, \\" and \\n escaped in values, on a sample of an undeclared family and on blank lines."""
    if not text.endswith("\n"):
        raise AssertionError("the exposition does not end with a newline")
    families, samples = {}, []
    for number, line in enumerate(text[:-1].split("\n"), 1):
        help_line, type_line = STRICT_HELP_RE.match(line), STRICT_TYPE_RE.match(line)
        if help_line:
            continue
        if type_line:
            families[type_line.group(1)] = type_line.group(2)
            continue
        sample = STRICT_SAMPLE_RE.match(line)
        if not sample:
            raise AssertionError(f"line {number} is not valid Prometheus text: {line!r}")
        name, labels, value = sample.groups()
        if not any(name == family + suffix for family, kind in families.items()
                   for suffix in FAMILY_SUFFIXES.get(kind, ("",))):
            raise AssertionError(f"line {number}: {name} has no # TYPE before it")
        samples.append((name, _strict_labels(labels or "", number), float(value)))
    return samples


def _strict_labels(text, number):
    labels, at = {}, 0
    while at < len(text):
        match = STRICT_LABEL_RE.match(text, at)
        if not match:
            raise AssertionError(f"line {number}: bad label at {text[at:]!r}")
        value = re.sub(r'\\[\\"n]', lambda m: LABEL_ESCAPES[m.group(0)], match.group(2))
        labels[match.group(1)] = value
        at = match.end()
        if at < len(text):
            if text[at] != ",":
                raise AssertionError(f"line {number}: expected a comma at {text[at:]!r}")
            at += 1
    return labels


def server_metric(client, name):
    """The value of an unlabelled metric (say monolite_writer_checkpoints_total), read from /metrics
    with the strict parser."""
    resp = client.get("/metrics")
    if resp.status != 200:
        raise AssertionError(f"/metrics answered {resp.status}: {resp.raw[:300]!r}")
    values = [v for n, labels, v in parse_prometheus_strict(resp.raw.decode()) if n == name and not labels]
    if len(values) != 1:
        raise AssertionError(f"/metrics has {len(values)} samples of {name}")
    return values[0]


def metric(client, name):
    """The value of one replica metric, summed over the replicas (there is usually one)."""
    values = replica_metrics(client).get(name)
    if values is None:
        raise AssertionError(f"/metrics has no {name}")
    return sum(values.values())


def wait_caught_up(client, timeout=30.0, interval_s=0.1, new_generation=True):
    """Waits until no replica has a frame left to upload and — for a server that started a new
    generation (snapshots_total counts this process's uploads only) — each holds its snapshot.

    The lag gauges are refreshed when the uploader runs (at most once per interval), so this
    first lets an interval pass, and asks for two clean readings in a row. True on success.
    """
    time.sleep(max(0.3, 3 * interval_s))
    clean_in_a_row = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = replica_metrics(client)
        frames = m.get("monolite_replica_lag_frames", {})
        snaps = m.get("monolite_replica_snapshots_total", {})
        clean = bool(frames) and all(v == 0 for v in frames.values()) and \
            (not new_generation or all(snaps.get(r, 0) >= 1 for r in frames))
        clean_in_a_row = clean_in_a_row + 1 if clean else 0
        if clean_in_a_row >= 2:
            return True
        time.sleep(max(0.1, interval_s))
    return False


def error_records(server, containing=""):
    return [r for r in server.log_records()
            if r.get("level") == "error" and containing in str(r)]


# --------------------------------------------------------------------------- write load


class TimedLoad:
    """Writer threads inserting rows into `load` (the harness schema), each over its own
    connection, recording when each id was acknowledged (time.monotonic and time.time).

    With pairs=True a request inserts id and -id together: a restore must hold both or neither.
    `pause` seconds are slept between a writer's requests.
    """

    def __init__(self, port, writers, first_writer=0, pairs=True, pause=0.0, duration_s=120.0):
        self.port = port
        self.first_writer = first_writer
        self.pairs = pairs
        self.pause = pause
        self.duration_s = duration_s
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.sent = set()             # every id a request carried
        self.acks = {}                # id -> (monotonic, wall) of the 200 answer
        self.other_statuses = []      # (id, status, error code) of answers other than 200
        self.transport_errors = []
        self.threads = [threading.Thread(target=self._run, args=(w,), daemon=True)
                        for w in range(writers)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop(self, timeout=60.0):
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self.threads):
            raise AssertionError("writer threads still running")
        return self

    def acked(self):
        with self.lock:
            return set(self.acks)

    def acked_count(self):
        with self.lock:
            return len(self.acks)

    def acked_before(self, monotonic_t):
        with self.lock:
            return {i for i, (mono, _) in self.acks.items() if mono < monotonic_t}

    def _statements(self, row_id, writer, seq):
        if self.pairs:
            return [load_insert(row_id, writer, seq), load_insert(-row_id, writer, seq)]
        return [load_insert(row_id, writer, seq)]

    def _run(self, index):
        writer = self.first_writer + index
        client = Client(self.port, timeout=60)
        deadline = time.monotonic() + self.duration_s
        try:
            for seq in range(1, WRITER_ID_STRIDE):
                if self.stop_event.is_set() or time.monotonic() > deadline:
                    return
                row_id = writer * WRITER_ID_STRIDE + seq
                with self.lock:
                    self.sent.add(row_id)
                try:
                    resp = client.execute_many(self._statements(row_id, writer, seq))
                except (OSError, http.client.HTTPException) as exc:
                    with self.lock:
                        self.transport_errors.append(exc)
                    return  # the server is gone
                now = (time.monotonic(), time.time())
                with self.lock:
                    if resp.status == 200:
                        self.acks[row_id] = now
                    else:
                        body = resp.body if isinstance(resp.body, dict) else {}
                        code = (body.get("error") or {}).get("code")
                        self.other_statuses.append((row_id, resp.status, code))
                if self.pause:
                    self.stop_event.wait(self.pause)
        finally:
            client.close()


class SequentialWriter:
    """One connection inserting rows 1, 2, 3 … into `load` with a pause between requests, so
    that quiet moments — between one acknowledgement and the next request — are known."""

    def __init__(self, port, pause=0.1, start_id=1):
        self.port = port
        self.pause = pause
        self.next_id = start_id
        self.rows = []          # (id, sent wall time, acked wall time)
        self.failures = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self, timeout=30.0):
        self.stop_event.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError("sequential writer still running")
        return self

    def _run(self):
        client = Client(self.port, timeout=60)
        try:
            while not self.stop_event.is_set():
                row_id = self.next_id
                sent = time.time()
                resp = client.execute_many([load_insert(row_id, 0, row_id)])
                acked = time.time()
                if resp.status != 200:
                    self.failures.append((row_id, resp.status, resp.raw[:300]))
                    return
                with self.lock:
                    self.rows.append((row_id, sent, acked))
                self.next_id += 1
                self.stop_event.wait(self.pause)
        except (OSError, http.client.HTTPException) as exc:
            self.failures.append(exc)
        finally:
            client.close()

    def quiet_point_after(self, epoch_s):
        """(T, ids committed before T): T is the middle of the first quiet gap — after one
        row's acknowledgement and before the next row was sent — that starts at or after
        `epoch_s`. None if the writer has no such gap yet."""
        with self.lock:
            rows = list(self.rows)
        for (row_id, _, acked), (_, next_sent, _) in zip(rows, rows[1:]):
            if acked >= epoch_s and next_sent - acked >= 0.02:
                return (acked + next_sent) / 2, {r[0] for r in rows if r[0] <= row_id}
        return None


class Ballast:
    """A thread inserting `size`-byte random blobs into table `ballast` every `pause` seconds:
    many WAL pages, so the writer checkpoints and the WAL restarts (new WAL indexes) often."""

    def __init__(self, port, size=32768, pause=0.01):
        self.port, self.size, self.pause = port, size, pause
        self.failures = []
        self.count = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self, timeout=30.0):
        self.stop_event.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise AssertionError("ballast writer still running")
        return self

    def _run(self):
        client = Client(self.port, timeout=60)
        try:
            resp = client.execute("CREATE TABLE IF NOT EXISTS ballast(id INTEGER PRIMARY KEY, b BLOB)")
            if resp.status != 200:
                self.failures.append((resp.status, resp.raw[:300]))
                return
            while not self.stop_event.is_set():
                resp = client.execute("INSERT INTO ballast(b) VALUES (randomblob(?))", [self.size])
                if resp.status != 200:
                    self.failures.append((resp.status, resp.raw[:300]))
                    return
                self.count += 1
                self.stop_event.wait(self.pause)
        except (OSError, http.client.HTTPException) as exc:
            self.failures.append(exc)
        finally:
            client.close()


# ----------------------------------------------------------------------------- fault proxy


class FaultProxy:
    """An HTTP/1.1 proxy on a free loopback port in front of `upstream_port`, for S3 traffic.

    Each request is read whole (head and Content-Length body), then handled by the mode of the
    moment:
      "pass"   forward it on a fresh upstream connection and relay the answer (Connection: close)
      "error"  answer 500 InternalError (an S3 XML error body) and close
      "reset"  close the client connection with a TCP reset, answering nothing
      "stall"  answer nothing and keep the connection open until the mode changes or stop()
      "stall_objects"  like "stall" for object downloads (a GET without a query), "pass" otherwise
      "slow"   like "pass", after waiting `delay_s` seconds (or until the mode changes)
      "down"   (new connections) refused: the listening socket is closed
      "slowdown"  answer 503 SlowDown (S3's throttling reply) and close
      "truncate"  forward it, then send the answer's head and only half its body, and close
      "lost"   forward it, then reset the connection: the upstream acted, the client never hears
      "flaky"  each request, with probability `flaky_rate`, gets one of error, slowdown, reset,
               truncate or lost (chosen at random); the others pass
    Whatever the mode, the next GET whose request line contains `truncate_once` (when set) is
    truncated (once), and every request's head is kept in `heads` (bytes, in arrival order).
    Whatever the mode, a GET whose request line contains `missing` (when set) is answered 404
    NoSuchKey: an object that is listed but gone when fetched.
    `counts` tallies the requests handled per mode.
    """

    MODES = ("pass", "error", "reset", "stall", "stall_objects", "slow", "down", "slowdown", "truncate", "lost",
             "flaky")

    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.port = free_port()
        self.mode = "pass"
        self.delay_s = 1.0
        self.flaky_rate = 0.3
        self.missing = None
        self.truncate_once = None
        self.heads = []
        self.random = random.Random(0x5eed)
        self.counts = {}
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.stopped = False
        self.listener = None
        self.connections = set()
        self._listen()

    def _listen(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self.port))
        sock.listen(64)
        self.listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def endpoint(self):
        return f"http://{HOST}:{self.port}"

    def set_mode(self, mode):
        assert mode in self.MODES, mode
        with self.changed:
            previous, self.mode = self.mode, mode
            self.changed.notify_all()
        if mode == "down" and previous != "down":
            self.listener.close()
            for conn in list(self.connections):
                self._reset(conn)
        elif mode != "down" and previous == "down":
            self._listen()

    def count(self, mode):
        with self.lock:
            return self.counts.get(mode, 0)

    def stop(self):
        with self.changed:
            self.stopped = True
            self.changed.notify_all()
        try:
            self.listener.close()
        except OSError:
            pass
        for conn in list(self.connections):
            self._close(conn)

    def _accept(self, listener):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed
            self.connections.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _close(conn):
        try:
            conn.close()
        except OSError:
            pass

    def _reset(self, conn):
        try:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass
        self._close(conn)

    def _serve(self, conn):
        try:
            reader = conn.makefile("rb")
            while True:
                request = _read_http_message(reader, is_request=True)
                if request is None:
                    return
                with self.lock:
                    mode = self.mode
                    if mode == "flaky":
                        mode = "pass" if self.random.random() >= self.flaky_rate else \
                            self.random.choice(("error", "slowdown", "reset", "truncate", "lost"))
                    if self.truncate_once and request[0].startswith(b"GET ") and \
                            self.truncate_once.encode() in request[0].split(b"\r\n", 1)[0]:
                        mode, self.truncate_once = "truncate", None
                    self.counts[mode] = self.counts.get(mode, 0) + 1
                    self.heads.append(request[0])
                if self.missing and request[0].startswith(b"GET ") and \
                        self.missing.encode() in request[0].split(b"\r\n", 1)[0]:
                    return self._answer_error(conn, "missing")
                if mode == "stall_objects":
                    mode = "stall" if _is_object_get(request[0]) else "pass"
                if mode == "slow":
                    with self.changed:
                        self.changed.wait_for(lambda: self.mode != "slow" or self.stopped, timeout=self.delay_s)
                if mode in ("reset", "down"):
                    return self._reset(conn)
                if mode == "stall":
                    with self.changed:
                        self.changed.wait_for(lambda: self.mode not in ("stall", "stall_objects") or self.stopped,
                                              timeout=300)
                    return self._reset(conn)
                if mode in ("error", "slowdown"):
                    return self._answer_error(conn, mode)
                answer = self._forward(request)
                if mode == "lost":
                    return self._reset(conn)
                if mode == "truncate":
                    head_end = answer.index(b"\r\n\r\n") + 4
                    conn.sendall(answer[:head_end + (len(answer) - head_end) // 2])
                    return self._reset(conn)
                conn.sendall(answer)
                return self._close(conn)
        except OSError:
            self._close(conn)
        finally:
            self.connections.discard(conn)

    def _answer_error(self, conn, mode):
        code, status = {"error": (b"InternalError", b"500 Internal Server Error"),
                        "slowdown": (b"SlowDown", b"503 Slow Down"),
                        "missing": (b"NoSuchKey", b"404 Not Found")}[mode]
        body = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>' + code +
                b'</Code><Message>injected by the test proxy</Message></Error>')
        conn.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/xml\r\n"
                     b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        self._close(conn)

    def _forward(self, request):
        head, body = request
        lines = [line for line in head.split(b"\r\n")
                 if not line.lower().startswith((b"connection:", b"keep-alive:"))]
        upstream = socket.create_connection((HOST, self.upstream_port), timeout=60)
        try:
            upstream.sendall(b"\r\n".join(lines) + b"\r\nConnection: close\r\n\r\n" + body)
            response = _read_http_message(upstream.makefile("rb"), is_request=False)
        finally:
            upstream.close()
        if response is None:
            raise OSError("the upstream closed without answering")
        head, body = response
        lines = [line for line in head.split(b"\r\n")
                 if not line.lower().startswith((b"connection:", b"keep-alive:", b"transfer-encoding:",
                                                 b"content-length:"))]
        return (b"\r\n".join(lines) + b"\r\nConnection: close\r\nContent-Length: " +
                str(len(body)).encode() + b"\r\n\r\n" + body)


def _is_object_get(head):
    """Whether a request head is a GET of one object (a listing has a query string)."""
    method, target = head.split(b"\r\n", 1)[0].split(b" ")[:2]
    return method == b"GET" and b"?" not in target


def _read_http_message(reader, is_request):
    """(head without the final CRLFCRLF, body) of one HTTP/1.1 message; None at a clean EOF.
    Bodies: Content-Length, chunked, or (responses only) until EOF."""
    first = reader.readline(65536)
    if not first:
        return None
    lines = [first.rstrip(b"\r\n")]
    headers = {}
    while True:
        line = reader.readline(65536)
        if not line:
            raise OSError("connection closed inside a header")
        line = line.rstrip(b"\r\n")
        if not line:
            break
        lines.append(line)
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        chunks = []
        while True:
            size = int(reader.readline(65536).split(b";")[0], 16)
            if size == 0:
                while reader.readline(65536) not in (b"\r\n", b"\n", b""):
                    pass
                break
            chunks.append(reader.read(size))
            reader.readline(65536)
        body = b"".join(chunks)
        lines = [l for l in lines if not l.lower().startswith(b"transfer-encoding:")]
        if is_request:
            lines.append(b"Content-Length: " + str(len(body)).encode())
    elif b"content-length" in headers:
        body = reader.read(int(headers[b"content-length"]))
    elif is_request or lines[0].split(b" ")[1:2] in ([b"204"], [b"304"]):
        body = b""
    else:
        body = reader.read()
    return b"\r\n".join(lines), body


# ------------------------------------------------------------------------- test base class


class ReplicationTestCase(ServerTestCase):
    """ServerTestCase plus restore checks."""

    def start_replicated(self, db_path, url, *extra, workdir=None, env=None):
        return self.start_server("--replica", url, *FAST, *extra, db_path=db_path,
                                 workdir=workdir or os.path.dirname(db_path), env=env)

    def restore_ok(self, output, url, *extra, env=None):
        done = restore(output, url, *extra, env=env)
        self.assertEqual(done.returncode, 0, f"restore failed:\n{done.stderr}")
        self.assertEqual(db_file_integrity(output), ["ok"])
        return db_file_load_ids(output)

    def assert_restore_fails(self, output, url, *extra, env=None, expect=()):
        done = restore(output, url, *extra, env=env)
        self.assertEqual(done.returncode, 1, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
        for text in expect:
            self.assertIn(text, done.stderr)
        self.assertFalse(os.path.exists(output), "a failed restore left the output file")
        folder = os.path.dirname(output) or "."
        leftovers = [n for n in os.listdir(folder) if n.startswith(os.path.basename(output) + ".")]
        self.assertEqual(leftovers, [], "a failed restore left temporary files")
        return done

    def assert_restored_load(self, ids, must_have, sent):
        """The restored `load` ids hold every id in `must_have`, nothing never sent, no half pair."""
        positive = {i for i in ids if i > 0}
        self.assertEqual(must_have - positive, set(), "acknowledged writes missing from the restore")
        self.assertEqual(positive - sent, set(), "the restore holds rows nobody wrote")
        self.assertEqual(unpaired_ids(ids), set(), "a two-statement request was restored half")


