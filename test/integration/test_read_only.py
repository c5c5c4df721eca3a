"""Read-only mode for a cut-over: POST /admin/read-only, --read-only, and what writes see.

The switch is answered only once every write accepted before it has committed and no
interactive transaction holds the writer: so every write ever acknowledged 200 is in the
database afterwards, and every write sent after the answer is 503 READ_ONLY with Retry-After.
"""

import hashlib
import os
import secrets
import threading
import time
import unittest

from harness import Background, ServerTestCase, bearer, wait_until

SWITCH = "/admin/read-only"
PIPELINE = "/v2/pipeline"
WAIT_S = 30.0


def hrana_execute(sql):
    return {"type": "execute", "stmt": {"sql": sql, "args": []}}


class ReadOnlyCase(ServerTestCase):
    def switch(self, client, on):
        body = self.assert_ok(client.post_json(SWITCH, {"read_only": on}))
        self.assertIs(body["read_only"], on, body)
        self.assertIsInstance(body["commits"], int, body)
        self.assertIsInstance(body["wal_frames"], int, body)
        return body

    def assert_read_only_refusal(self, resp):
        self.assert_error(resp, 503, "READ_ONLY")
        self.assertTrue(resp.header("retry-after"), resp.headers)

    def ids_in_db(self, client):
        body = self.assert_ok(client.query("SELECT id FROM t"))  # reads go on in read-only mode
        return {row[0] for row in body["rows"]}

    def metric(self, client, name):
        text = client.get("/metrics").raw.decode()
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        self.fail(f"{name} not in /metrics")

    def pipeline(self, client, requests, baton=None):
        return self.assert_ok(client.post_json(PIPELINE, {"baton": baton, "requests": requests}))


class WritesDuringTheSwitch(ReadOnlyCase):
    def hammer(self, server, writer, stop, log):
        """Inserts ids writer*1e6 + n until `stop`; logs (id, sent_at, response)."""
        client = self.client(server)
        n = 0
        while not stop.is_set():
            row_id = writer * 1_000_000 + n
            sent_at = time.monotonic()
            log.append((row_id, sent_at, client.execute("INSERT INTO t(id) VALUES (?)", [row_id])))
            n += 1

    def test_every_acknowledged_write_is_kept_and_every_later_one_refused(self):
        server = self.start_server()
        admin = self.client(server)
        self.assert_ok(admin.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)"))
        stop, logs = threading.Event(), [[] for _ in range(3)]
        loops = [Background(lambda w=w: self.hammer(server, w, stop, logs[w])) for w in range(3)]
        acked = lambda: sum(1 for log in logs for _, _, r in list(log) if r.status == 200)
        self.assertTrue(wait_until(lambda: acked() >= 30, WAIT_S), "no writes acknowledged")
        answer = self.switch(admin, True)
        answered_at = time.monotonic()
        refused_after = lambda: sum(1 for log in logs for _, at, r in list(log) if at > answered_at)
        self.assertTrue(wait_until(lambda: refused_after() >= 30, WAIT_S), "the loops stopped")
        stop.set()
        for loop in loops:
            loop.wait(WAIT_S)

        in_db = self.ids_in_db(admin)
        everything = [entry for log in logs for entry in log]
        for row_id, sent_at, resp in everything:
            if resp.status == 200:
                self.assertIn(row_id, in_db, "an acknowledged write is missing")
            else:
                self.assert_read_only_refusal(resp)
                self.assertNotIn(row_id, in_db, "a refused write was committed")
            if sent_at > answered_at:
                self.assert_read_only_refusal(resp)
        self.assertEqual(len(in_db), sum(1 for _, _, r in everything if r.status == 200))
        # The answer names the final state: no commit came after it.
        self.assertEqual(self.assert_ok(admin.get(SWITCH)), {"read_only": True, "commits": answer["commits"]})
        self.assertEqual(self.metric(admin, "monolite_read_only"), 1)
        self.assert_read_only_refusal(admin.batch([{"sql": "INSERT INTO t(id) VALUES (-1)"}]))
        self.assertTrue(any(r.get("msg", "").startswith("read-only mode on") for r in server.log_records()))

        self.switch(admin, False)
        self.assert_ok(admin.execute("INSERT INTO t(id) VALUES (-2)"))
        self.assertEqual(self.metric(admin, "monolite_read_only"), 0)
        self.assertTrue(any(r.get("msg", "").startswith("read-only mode off") for r in server.log_records()))


class HranaInReadOnlyMode(ReadOnlyCase):
    def test_pipeline_writes_are_refused_and_reads_go_on(self):
        server = self.start_server()
        http = self.client(server)
        self.assert_ok(http.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)"))
        self.switch(http, True)
        body = self.pipeline(http, [hrana_execute("INSERT INTO t VALUES (1)"), hrana_execute("SELECT count(*) FROM t"),
                                    {"type": "close"}])
        write, read = body["results"][0], body["results"][1]
        self.assertEqual(write["type"], "error", write)
        self.assertEqual(write["error"]["code"], "READ_ONLY", write)
        self.assertEqual(read["type"], "ok", read)
        self.assertEqual(self.ids_in_db(http), set())

    def test_an_open_transaction_delays_the_switch_until_it_commits(self):
        server = self.start_server("--transaction-timeout", "20")
        http = self.client(server)
        self.assert_ok(http.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)"))
        begun = self.pipeline(http, [hrana_execute("BEGIN IMMEDIATE"), hrana_execute("INSERT INTO t VALUES (1)")])
        switching = Background(lambda: self.client(server).post_json(SWITCH, {"read_only": True}))
        # The writer has taken the switch (GET reads its gate) but may not answer while the lease is held.
        self.assertTrue(wait_until(lambda: self.assert_ok(http.get(SWITCH))["read_only"], WAIT_S))
        self.assert_read_only_refusal(http.execute("INSERT INTO t VALUES (2)"))
        self.assertIsNone(switching.finished_at, "answered while a transaction held the writer")
        self.pipeline(http, [hrana_execute("INSERT INTO t VALUES (3)"), hrana_execute("COMMIT"), {"type": "close"}],
                      baton=begun["baton"])
        answer = self.assert_ok(switching.wait(WAIT_S))
        self.assertTrue(answer["read_only"])
        self.assertEqual(self.ids_in_db(http), {1, 3})

    def test_a_transaction_left_open_is_rolled_back_by_the_timeout_and_then_the_switch_answers(self):
        server = self.start_server("--transaction-timeout", "1")
        http = self.client(server)
        self.assert_ok(http.execute("CREATE TABLE t(id INTEGER PRIMARY KEY)"))
        self.pipeline(http, [hrana_execute("BEGIN IMMEDIATE"), hrana_execute("INSERT INTO t VALUES (1)")])
        started = time.monotonic()
        self.switch(http, True)
        self.assertGreaterEqual(time.monotonic() - started, 0.5)  # it waited for the lease to end
        self.assertEqual(self.ids_in_db(http), set())


def auth_file(workdir, tokens):
    path = os.path.join(workdir, "auth.yaml")
    with open(path, "w", encoding="utf-8") as out:
        out.write("tokens:\n")
        for role, token in tokens.items():
            digest = hashlib.sha256(token.encode()).hexdigest()
            out.write(f'  - {{name: {role}-client, sha256: "{digest}", role: {role}}}\n')
    return path


class SwitchRequests(ReadOnlyCase):
    def test_only_admin_may_switch(self):
        workdir = self.make_tempdir()
        tokens = {role: "mlt_" + secrets.token_urlsafe(24) for role in ("read", "write", "admin")}
        server = self.start_server("--auth", auth_file(workdir, tokens), workdir=workdir)
        for role in ("read", "write"):
            client = self.client(server, headers=bearer(tokens[role]))
            self.assert_error(client.post_json(SWITCH, {"read_only": True}), 403, "FORBIDDEN")
            self.assert_error(client.get(SWITCH), 403, "FORBIDDEN")
        admin = self.client(server, headers=bearer(tokens["admin"]))
        self.assertEqual(self.assert_ok(admin.get(SWITCH))["read_only"], False)
        self.switch(admin, True)

    def test_a_bad_body_is_400_in_the_error_shape(self):
        server = self.start_server()
        http = self.client(server)
        self.assert_error(http.request("POST", SWITCH, b"{not json", {"Content-Type": "application/json"}), 400,
                          "BAD_JSON")
        for body in ({}, {"read_only": "yes"}, {"read_only": 1}, [True]):
            with self.subTest(body=body):
                self.assert_error(http.post_json(SWITCH, body), 400, "BAD_REQUEST")
        self.assertEqual(self.assert_ok(http.get(SWITCH))["read_only"], False)

    def test_the_flag_starts_read_only_and_a_restart_without_it_serves_writes(self):
        workdir = self.make_tempdir()
        server = self.start_server(workdir=workdir)
        self.assert_ok(self.client(server).execute("CREATE TABLE t(id INTEGER PRIMARY KEY)"))
        server.stop_and_check()
        server = self.start_server("--read-only", workdir=workdir)
        http = self.client(server)
        self.assert_read_only_refusal(http.execute("INSERT INTO t VALUES (1)"))
        self.assertEqual(self.ids_in_db(http), set())
        self.assertEqual(self.assert_ok(http.get(SWITCH))["read_only"], True)
        server.stop_and_check()
        server = self.start_server(workdir=workdir)  # read-only mode is process state: gone
        self.assert_ok(self.client(server).execute("INSERT INTO t VALUES (1)"))


if __name__ == "__main__":
    unittest.main()
