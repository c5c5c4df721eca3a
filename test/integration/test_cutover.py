"""monolite move --cutover against a running server and a real PostgreSQL 15: no acknowledged
write is lost, writes are refused after it and reads go on; a move that fails switches the server
back; a server that cannot be switched means nothing is moved."""

import json
import os
import threading
import unittest

from harness import Background, ServerTestCase, bearer, run_cli, wait_until
from postgres import PostgresServer
from test_security import auth_file_text, new_token, write_file

SCHEMA = "CREATE TABLE events(id INTEGER PRIMARY KEY, body TEXT NOT NULL)"


class CutoverTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = PostgresServer().start()
        cls.addClassCleanup(cls.pg.stop)

    def setUp(self):
        self.workdir = self.make_tempdir()
        self.tokens = {"admin": new_token(), "write": new_token()}
        auth = write_file(os.path.join(self.workdir, "auth.yaml"),
                          auth_file_text([(role, token, role) for role, token in self.tokens.items()]))
        self.db_path = os.path.join(self.workdir, "app.db")
        self.server = self.start_server("--auth", auth, db_path=self.db_path, workdir=self.workdir)
        self.writer = self.client(self.server, headers=bearer(self.tokens["write"]))
        self.assertEqual(self.writer.execute(SCHEMA).status, 200)
        self.target = self.pg.new_database()

    def cutover(self, token=None, *extra):
        env = {"MONOLITE_TOKEN": self.tokens["admin"] if token is None else token}
        return run_cli(["move", "--cutover", "--url", f"http://127.0.0.1:{self.server.port}", "--db", self.db_path,
                        "--to", self.pg.url(self.target), *extra], env=env, timeout=300)

    def write_until(self, stop, acknowledged, refused):
        """Inserts rows one at a time until `stop`; keeps the ids answered 200 and the refusals."""
        client = self.client(self.server, headers=bearer(self.tokens["write"]))
        n = 0
        while not stop.is_set():
            n += 1
            resp = client.execute("INSERT INTO events(id, body) VALUES (?, ?)", [n, f"event {n}"])
            if resp.status == 200:
                acknowledged.append(n)
            else:
                refused.append((n, resp.status, resp.header("Retry-After"), json.loads(resp.raw)["error"]["code"]))

    def read_only(self):
        admin = self.client(self.server, headers=bearer(self.tokens["admin"]))
        resp = admin.get("/admin/read-only")
        self.assertEqual(resp.status, 200, resp.raw)
        return json.loads(resp.raw)["read_only"]

    def test_every_acknowledged_write_is_in_postgres_and_later_writes_are_refused(self):
        stop, acknowledged, refused = threading.Event(), [], []
        load = Background(lambda: self.write_until(stop, acknowledged, refused))
        self.assertTrue(wait_until(lambda: len(acknowledged) >= 50, 30), "the writes did not start")
        done = self.cutover(None, "--json")
        # The writes kept coming during the whole cut-over; once it returned, they are refused.
        self.assertTrue(wait_until(lambda: len(refused) >= 5, 30))
        stop.set()
        load.wait(30)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("point the application at postgresql://", done.stderr)
        verify = json.loads(done.stdout)["verify"]
        self.assertTrue(verify["ran"] and verify["ok"], verify)
        moved = {int(row[0]) for row in self.pg.psql(self.target, "SELECT id FROM events")}
        self.assertEqual(moved, set(acknowledged))  # each acknowledged row, and no other
        self.assertTrue(all(status == 503 and retry and code == "READ_ONLY" for _, status, retry, code in refused),
                        refused[:3])
        self.assertTrue(self.read_only())
        reader = self.client(self.server, headers=bearer(self.tokens["write"]))
        self.assertEqual(reader.query("SELECT count(*) FROM events").status, 200)

    def test_a_move_that_fails_switches_the_server_back(self):
        self.assertEqual(self.writer.execute("INSERT INTO events VALUES (1, 'one')").status, 200)
        self.pg.psql(self.target, "CREATE TABLE events(id bigint)")  # in the way, and no --replace
        done = self.cutover()
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("the server serves writes again", done.stderr)
        self.assertFalse(self.read_only())
        self.assertEqual(self.writer.execute("INSERT INTO events VALUES (2, 'two')").status, 200)

    def test_without_an_admin_token_nothing_is_moved(self):
        done = self.cutover(self.tokens["write"])
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("cannot switch the server to read-only", done.stderr)
        self.assertIn("403", done.stderr)
        self.assertEqual(self.pg.psql(self.target, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"),
                         [("0",)])
        self.assertFalse(self.read_only())

    def test_an_unreachable_server_means_nothing_is_moved(self):
        done = run_cli(["move", "--cutover", "--url", "http://127.0.0.1:1", "--db", self.db_path,
                        "--to", self.pg.url(self.target)])
        self.assertEqual(done.returncode, 3, done.stderr)
        self.assertIn("cannot reach", done.stderr)

    def test_usage(self):
        both = run_cli(["move", "--cutover", "--verify-only", "--db", self.db_path, "--to", self.pg.url(self.target)])
        self.assertEqual(both.returncode, 2)
        bad_url = run_cli(["move", "--cutover", "--url", "ftp://x", "--db", self.db_path,
                           "--to", self.pg.url(self.target)])
        self.assertEqual(bad_url.returncode, 2)
        self.assertIn("--url", bad_url.stderr)


if __name__ == "__main__":
    unittest.main()
