"""serve --follow: a read-only copy kept by the primary's replication log (snapshot, then frames),
serving reads, forwarding writes, surviving kill -9 of either side."""
import os
import tempfile
import threading
import unittest

from harness import Server, bearer, free_port, wait_until
from test_security import auth_file_text

CATCH_UP_S = 20.0
TOKENS = {"read": "follow-read-token", "write": "follow-write-token", "admin": "follow-admin-token"}


def rows_of(server, sql, headers=None):
    client = server.client(headers=headers)
    try:
        resp = client.query(sql)
        return resp.body["rows"] if resp.status == 200 else None
    finally:
        client.close()


def table_digest(server, headers=None):
    """integrity_check, and every row of t in id order (the checksum: the rows themselves)."""
    integrity = rows_of(server, "PRAGMA integrity_check", headers)
    rows = rows_of(server, "SELECT id, v FROM t ORDER BY id", headers)
    return integrity, rows


class FollowerCase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.servers = []

    def tearDown(self):
        try:
            for server in reversed(self.servers):
                server.stop_and_check()  # a clean SIGTERM exit, 0
        finally:
            self.tmp.cleanup()

    def start(self, name, extra=(), port=None):
        port = port or free_port()
        args = ["--db", os.path.join(self.tmp.name, name), "--listen", f"127.0.0.1:{port}", *extra]
        server = Server(self.tmp.name, args, port).start()
        self.servers.append(server)
        return server

    def follower(self, name, primary, extra=()):
        return self.start(name, ("--follow", f"http://127.0.0.1:{primary.port}", *extra))

    def wait_ready(self, server):
        def ready():
            client = server.client()
            try:
                return client.get("/readyz").status == 200
            finally:
                client.close()
        self.assertTrue(wait_until(ready, CATCH_UP_S), server.log_tail())

    def assert_same(self, primary, follower, primary_headers=None, follower_headers=None):
        want = table_digest(primary, primary_headers)
        self.assertEqual(want[0], [["ok"]])
        self.assertTrue(wait_until(lambda: table_digest(follower, follower_headers) == want, CATCH_UP_S),
                        f"follower: {table_digest(follower, follower_headers)[1][-3:]} primary: {want[1][-3:]}\n"
                        + follower.log_tail())


class TestFollower(FollowerCase):
    def test_two_followers_under_sustained_writes_and_kill9_drills(self):
        primary = self.start("primary.db")
        primary.client().execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        followers = [self.follower(f"f{i}.db", primary) for i in range(2)]
        for f in followers:
            self.wait_ready(f)
        stop = threading.Event()
        counter = [0]

        def write():
            client = primary.client()
            while not stop.is_set():
                counter[0] += 1
                try:
                    client.execute("INSERT INTO t(v) VALUES (?)", [f"row {counter[0]} " + "x" * 200])
                except OSError:
                    client.close()
                    client = primary.client()
            client.close()
        writer = threading.Thread(target=write)
        writer.start()
        try:
            self.assertTrue(wait_until(lambda: counter[0] > 300, 20))
            followers[0].kill9()  # its own crash: resumes from its state file
            self.servers.remove(followers[0])
            followers[0] = self.follower("f0.db", primary)
            self.wait_ready(followers[0])
            self.assertTrue(wait_until(lambda: counter[0] > 600, 20))
        finally:
            stop.set()
            writer.join()
        for f in followers:
            self.assert_same(primary, f)
        # The primary killed and restarted: the followers catch up with what it writes next.
        port = primary.port
        primary.kill9()
        self.servers.remove(primary)
        primary = self.start("primary.db", port=port)
        primary.client().execute("INSERT INTO t(v) VALUES ('after the restart')")
        for f in followers:
            self.assert_same(primary, f)
        # kill -9 gave the primary a new history (log id): the follower that saw both took a new snapshot.
        snapshots = [r for r in followers[1].log_records() if r.get("msg") == "follower: snapshot applied"]
        self.assertEqual(len({r["log_id"] for r in snapshots}), 2, followers[1].log_tail())

    def test_writes_through_a_follower_reach_the_primary_and_read_your_writes(self):
        primary = self.start("primary.db")
        primary.client().execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        follower = self.follower("f.db", primary)
        self.wait_ready(follower)
        client = follower.client()
        for i in range(20):
            resp = client.execute("INSERT INTO t(v) VALUES (?)", [f"through the follower {i}"])
            self.assertEqual(resp.status, 200, resp.raw)
            frame = resp.header("X-Monolite-Frame")
            self.assertIsNotNone(frame)
            read = client.request("POST", "/sql/query", b'{"sql": "SELECT count(*) FROM t"}',
                                  {"Content-Type": "application/json", "X-Monolite-Min-Frame": frame})
            self.assertEqual(read.status, 200, read.raw)
            self.assertEqual(read.body["rows"], [[i + 1]])
        self.assertEqual(rows_of(primary, "SELECT count(*) FROM t"), [[20]])
        far = client.request("POST", "/sql/query", b'{"sql": "SELECT 1"}',
                             {"Content-Type": "application/json", "X-Monolite-Min-Frame": "999999999"})
        self.assertEqual(far.status, 504, far.raw)
        self.assertEqual(far.body["error"]["code"], "FRAME_NOT_APPLIED")
        bad = client.execute("INSERT INTO nowhere VALUES (1)")  # the primary's error comes back as it is
        self.assertEqual(bad.status, 400, bad.raw)
        client.close()


class TestFollowerAuth(FollowerCase):
    def test_a_read_token_can_follow_and_no_token_cannot(self):
        auth = os.path.join(self.tmp.name, "auth.yaml")
        with open(auth, "w", encoding="utf-8") as out:
            out.write(auth_file_text([(f"{r}-client", t, r) for r, t in TOKENS.items()]))
        primary = self.start("primary.db", ("--auth", auth))
        admin = bearer(TOKENS["admin"])
        self.assertEqual(primary.client(headers=admin).execute("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
                         .status, 200)
        primary.client(headers=admin).execute("INSERT INTO t(v) VALUES ('secret')")
        follower = self.follower("f.db", primary, ("--follow-token", TOKENS["read"], "--auth", auth))
        self.wait_ready(follower)
        self.assert_same(primary, follower, admin, bearer(TOKENS["read"]))
        # A write with the client's own write token goes through; with the read token it is refused.
        writer = follower.client(headers=bearer(TOKENS["write"]))
        self.assertEqual(writer.execute("INSERT INTO t(v) VALUES ('w')").status, 200)
        reader = follower.client(headers=bearer(TOKENS["read"]))
        self.assertEqual(reader.execute("INSERT INTO t(v) VALUES ('r')").status, 403)
        self.assertEqual(rows_of(primary, "SELECT count(*) FROM t", admin), [[2]])
        stranger = self.follower("nobody.db", primary)
        self.assertTrue(wait_until(lambda: "refused the token" in stranger.log_text()
                                   or "answered 401" in stranger.log_text(), CATCH_UP_S), stranger.log_tail())
        self.assertEqual(stranger.client().get("/readyz").status, 503)


if __name__ == "__main__":
    unittest.main()
