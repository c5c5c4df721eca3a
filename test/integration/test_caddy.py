"""monolite behind a real Caddy, configured with the shipped deploy/monolite.caddy.

Requests and errors pass through unchanged, responses are compressed, monolite's access log names
the client Caddy forwarded, and a restart of monolite under write load costs no request and no
acknowledged write. The restart keeps the listening socket open across the two processes, as the
systemd socket unit in deploy/ does: Caddy 2.6 cannot retry a request that has a body (bug #5454),
so a restart that refuses connections for a moment would fail the POSTs sent meanwhile.

Caddy runs on free loopback ports with its admin API and automatic HTTPS off, and is stopped by PID.
"""

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest

from harness import (HOST, LOAD_SCHEMA, READY_TIMEOUT_S, STOP_TIMEOUT_S, Background, Client, Server,
                     ServerTestCase, WriteLoad, binary_path, child_env, db_file_integrity, db_file_load_ids,
                     free_port, raw_request, read_response, run_cli, serve_args, wait_until)

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROXY_SNIPPET = os.path.join(REPO, "deploy", "monolite.caddy")
SHIPPED_CADDYFILE = os.path.join(REPO, "deploy", "Caddyfile")
CADDY_START_TIMEOUT_S = 15.0
WRITERS = 8
RESTARTS = 5
ACKED_BETWEEN_RESTARTS = 300
FORWARDED_CLIENT = "127.0.0.2"  # the test's client connects to Caddy from here


def caddy_binary():
    path = shutil.which("caddy")
    if path is None:
        raise AssertionError("caddy is not installed; scripts/deps.sh test installs it")
    return path


class Caddy:
    """One `caddy run` process proxying a free loopback port to monolite on `upstream_port`."""

    def __init__(self, workdir, upstream_port):
        self.workdir = workdir
        self.upstream_port = upstream_port
        self.port = None
        self.proc = None
        self.log_path = os.path.join(workdir, f"caddy-{time.monotonic_ns()}.log")

    def start(self):
        for _ in range(3):  # the free port may be taken before Caddy binds it
            self.port = free_port()
            config = os.path.join(self.workdir, "Caddyfile")
            with open(config, "w", encoding="utf-8") as out:
                out.write("{\n\tadmin off\n\tauto_https off\n}\n"
                          f":{self.port} {{\n\tbind {HOST}\n{self.site_directives()}}}\n")
            env = {**os.environ, "MONOLITE_UPSTREAM": f"{HOST}:{self.upstream_port}",
                   "HOME": self.workdir, "XDG_DATA_HOME": self.workdir, "XDG_CONFIG_HOME": self.workdir}
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen([caddy_binary(), "run", "--config", config, "--adapter", "caddyfile"],
                                             env=env, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=log)
            if wait_until(self._listening, CADDY_START_TIMEOUT_S):
                return self
            self.stop()
        raise RuntimeError(f"caddy did not start; log:\n{self.log_tail()}")

    def site_directives(self):
        """The site block's body: the shipped proxy configuration."""
        return f"\timport {PROXY_SNIPPET}\n"

    def _listening(self):
        if self.proc.poll() is not None:
            return True  # exited: stop waiting (start() then sees it is not running)
        try:
            socket.create_connection((HOST, self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT_S)

    def log_tail(self, lines=30):
        """The last warnings and errors (Caddy's access log lines are left out)."""
        with open(self.log_path, "rb") as log:
            text = log.read().decode("utf-8", "replace")
        kept = [line for line in text.splitlines() if '"level":"info"' not in line]
        return "\n".join(kept[-lines:])

    def client(self, source=FORWARDED_CLIENT, timeout=60.0):
        client = Client(self.port, timeout)
        client.conn.source_address = (source, 0)
        return client


class HeldSocket:
    """A listening socket that outlives monolite processes, as systemd's socket unit holds one."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


class ActivatedServer(Server):
    """`monolite serve` handed the held socket as descriptor 3 (LISTEN_FDS=1, LISTEN_PID=its PID)."""

    def __init__(self, workdir, serve_args_, held):
        super().__init__(workdir, serve_args_, held.port)
        self.held = held
        self.ready_at = None

    def start(self, timeout=READY_TIMEOUT_S):
        fd = self.held.sock.fileno()
        move = f"exec 3<&{fd} {fd}<&-; " if fd != 3 else ""
        launcher = move + 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" "$@"'
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(["/bin/bash", "-c", launcher, binary_path(), "serve", *self.serve_args],
                                         env=child_env(), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         pass_fds=(fd,))
        if not wait_until(self._ready, timeout, interval=0.002):
            self.stop()
            raise RuntimeError(f"server not ready within {timeout}s; log:\n{self.log_tail()}")
        self.ready_at = time.monotonic()
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"server exited with {self.proc.returncode}; log:\n{self.log_tail()}")
        client = Client(self.port, timeout=2.0)
        try:
            return client.get("/readyz").status == 200
        except OSError:
            return False
        finally:
            client.close()


class CaddyTestCase(ServerTestCase):
    server_flags = ("--access-log=true",)

    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = os.path.join(self.workdir, "app.db")

    def start_caddy(self, upstream_port):
        caddy = Caddy(self.workdir, upstream_port).start()
        self.addCleanup(lambda: self._stop_caddy(caddy))
        return caddy

    def _stop_caddy(self, caddy):
        alive = caddy.running()
        caddy.stop()
        if not alive:
            raise AssertionError(f"caddy died during the test; log:\n{caddy.log_tail()}")

    def through(self, caddy):
        client = caddy.client()
        self.addCleanup(client.close)
        return client


class ProxyTest(CaddyTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.start_server(*self.server_flags, db_path=self.db_path, workdir=self.workdir)
        self.caddy = self.start_caddy(self.server.port)
        self.http = self.through(self.caddy)

    def test_shipped_caddyfile_is_valid(self):
        env = {**os.environ, "MONOLITE_UPSTREAM": f"{HOST}:{self.server.port}", "HOME": self.workdir,
               "XDG_DATA_HOME": self.workdir, "XDG_CONFIG_HOME": self.workdir}
        result = subprocess.run([caddy_binary(), "adapt", "--config", SHIPPED_CADDYFILE, "--adapter", "caddyfile"],
                                env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(result.returncode, 0, result.stderr)
        proxy = json.dumps(json.loads(result.stdout))
        self.assertIn('"try_duration"', proxy)
        self.assertIn(f'"dial": "{HOST}:{self.server.port}"', proxy)

    def test_sql_and_errors_pass_through(self):
        self.execute_ok(self.http, "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)")
        self.execute_ok(self.http, "INSERT INTO t(v) VALUES (?)", ["a"])
        self.assertEqual(self.query_rows(self.http, "SELECT id, v FROM t"), [[1, "a"]])
        self.assert_error(self.http.execute("INSERT INTO t(id, v) VALUES (1, 'b')"), 409,
                          "SQLITE_CONSTRAINT_PRIMARYKEY")
        self.assert_error(self.http.request("POST", "/sql/query", b"{", {"Content-Type": "application/json"}),
                          400, "BAD_JSON")
        self.assertEqual(self.http.get("/readyz").status, 200)

    def test_large_responses_are_compressed(self):
        sql = "SELECT printf('%.*c', 20000, 'x') AS filler"
        resp = self.http.request("POST", "/sql/query", json.dumps({"sql": sql}).encode(),
                                 {"Content-Type": "application/json", "Accept-Encoding": "gzip"})
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.header("content-encoding"), "gzip")
        self.assertLess(len(resp.raw), 2000)
        self.assertEqual(json.loads(gzip.decompress(resp.raw))["rows"], [["x" * 20000]])

    def test_access_log_names_the_forwarded_client(self):
        # The client claims another address; Caddy does not trust it and forwards its own view.
        resp = self.http.request("GET", "/healthz", headers={"X-Forwarded-For": "203.0.113.66"})
        self.assertEqual(resp.status, 200)
        self.assertTrue(wait_until(lambda: self._healthz_records(), 5), self.server.log_tail())
        record = self._healthz_records()[-1]
        self.assertEqual(record["client"], FORWARDED_CLIENT, record)
        self.assertEqual(record["proxy"], HOST, record)
        self.assertEqual(record["method"], "GET")
        self.assertEqual(record["status"], 200)
        self.assertIsInstance(record["us"], int)

    def _healthz_records(self):
        return [r for r in self.server.log_records() if r.get("msg") == "request" and r.get("path") == "/healthz"
                and r.get("proxy")]


class DirectAccessLogTest(CaddyTestCase):
    """X-Forwarded-For is believed only from --trusted-proxies."""

    def test_only_trusted_peers_name_the_client(self):
        server = self.start_server("--access-log=true", "--trusted-proxies", f"{HOST}, 10.0.0.0/8",
                                   db_path=self.db_path, workdir=self.workdir)
        cases = [  # (connect from, X-Forwarded-For, logged client)
            ("127.0.0.3", "203.0.113.66", "127.0.0.3"),  # not a trusted proxy: header ignored
            (HOST, "198.51.100.7", "198.51.100.7"),
            (HOST, "198.51.100.7, 10.1.2.3", "198.51.100.7"),  # a chain of trusted proxies
            (HOST, "not-an-address, 10.1.2.3", "10.1.2.3"),  # the walk stops at garbage
            (HOST, "2001:db8::5", "2001:db8::5"),
        ]
        for source, forwarded, _ in cases:
            client = Client(server.port)
            client.conn.source_address = (source, 0)
            try:
                self.assertEqual(client.request("GET", "/healthz", headers={"X-Forwarded-For": forwarded}).status,
                                 200)
            finally:
                client.close()
        # The last records: the start-up health probes were logged before them.
        logged = [r["client"] for r in self._records(server)][-len(cases):]
        self.assertEqual(logged, [c[2] for c in cases])

    def test_bad_range_is_a_usage_error(self):
        result = run_cli(["serve", "--db", self.db_path, "--trusted-proxies", "10.0.0.0/33"])
        self.assertEqual(result.returncode, 2)
        self.assertIn("--trusted-proxies", result.stderr)

    @staticmethod
    def _records(server):
        return [r for r in server.log_records() if r.get("msg") == "request"]


class ComposeFileTest(unittest.TestCase):
    """deploy/compose.yaml cannot run here (no container engine with a registry); its shape can."""

    def test_caddy_gets_the_shipped_config_and_monolite_stays_private(self):
        import yaml  # PyYAML comes with moto, which the suite needs anyway
        with open(os.path.join(REPO, "deploy", "compose.yaml"), encoding="utf-8") as f:
            compose = yaml.safe_load(f)
        monolite, caddy = compose["services"]["monolite"], compose["services"]["caddy"]
        self.assertNotIn("ports", monolite, "only Caddy may reach monolite")
        self.assertEqual(caddy["environment"]["MONOLITE_UPSTREAM"], "monolite:8080")
        self.assertEqual(caddy["depends_on"]["monolite"]["condition"], "service_healthy")
        mounted = {v.split(":")[0] for v in caddy["volumes"] if v.startswith("./")}
        self.assertEqual(mounted, {"./Caddyfile", "./monolite.caddy"})
        for path in mounted:
            self.assertTrue(os.path.exists(os.path.join(REPO, "deploy", path)), path)
        self.assertIn("MONOLITE_AUTH", monolite["environment"])
        self.assertEqual(monolite["build"]["context"], "..")
        grace = float(monolite["stop_grace_period"].rstrip("s"))
        self.assertGreater(grace, 10, "docker stop must leave time for the drain and the checkpoint")


class RestartTest(CaddyTestCase):
    def start_activated(self, held):
        server = ActivatedServer(self.workdir, serve_args(self.db_path, held.port, self.server_flags), held)
        self.addCleanup(server.stop_and_check)
        return server.start()

    def test_restart_under_write_load_loses_nothing(self):
        held = HeldSocket()
        self.addCleanup(held.close)
        server = self.start_activated(held)
        caddy = self.start_caddy(held.port)
        self.execute_ok(self.through(caddy), LOAD_SCHEMA)

        load = WriteLoad(caddy.port, WRITERS).start()
        restart_ms = []
        try:
            for _ in range(RESTARTS):
                target = load.acked_count() + ACKED_BETWEEN_RESTARTS
                self.assertTrue(wait_until(lambda: load.acked_count() >= target, 60),
                                f"writes stalled; caddy log:\n{caddy.log_tail()}")
                signalled = time.monotonic()
                server.send_signal(signal.SIGTERM)
                self.assertEqual(server.wait(STOP_TIMEOUT_S), 0, server.log_tail())
                server = self.start_activated(held)
                restart_ms.append((server.ready_at - signalled) * 1000)
            target = load.acked_count() + ACKED_BETWEEN_RESTARTS
            self.assertTrue(wait_until(lambda: load.acked_count() >= target, 60))
        finally:
            load.stop()
            load.join(60)
        print(f"\nrestart (SIGTERM to the new process ready), ms: "
              f"{', '.join(f'{ms:.0f}' for ms in restart_ms)}; {load.acked_count()} writes acknowledged",
              file=sys.stderr)

        self.assertEqual(load.failures(), [], caddy.log_tail())
        failed = [s for s in load.statuses() if s[0] != 200]
        self.assertEqual(failed, [], f"failed requests through Caddy; caddy log:\n{caddy.log_tail()}")
        self.assertEqual(server.stop(), 0)
        self.assertEqual(db_file_integrity(self.db_path), ["ok"])
        self.assertEqual(load.acked() - db_file_load_ids(self.db_path), set(), "acknowledged writes lost")
        self.assertLess(max(restart_ms), 1000)

    def test_request_on_an_idle_connection_during_shutdown_is_answered(self):
        # What a proxy does at the worst moment: send on a pooled connection just after SIGTERM.
        server = self.start_server("--shutdown-grace", "5", db_path=self.db_path, workdir=self.workdir)
        sock = self.socket(server)
        reader = sock.makefile("rb")
        sock.sendall(raw_request("GET", "/healthz"))
        self.assertEqual(read_response(reader).status, 200)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.05)
        sock.sendall(raw_request("POST", "/sql/execute", json.dumps({"sql": "CREATE TABLE t(x)"}).encode()))
        resp = read_response(reader)
        self.assertEqual(resp.status, 200, resp.raw)
        self.assertEqual((resp.header("connection") or "").lower(), "close")
        self.assertEqual(server.wait(STOP_TIMEOUT_S), 0, server.log_tail())

    def test_passed_socket_must_match_listen(self):
        held = HeldSocket()
        self.addCleanup(held.close)
        server = ActivatedServer(self.workdir, serve_args(self.db_path, free_port()), held)
        with self.assertRaises(RuntimeError) as failed:
            server.start()
        self.assertIn("LISTEN_FDS", str(failed.exception))
        self.assertEqual(server.proc.returncode, 1)

    def test_requests_wait_while_nothing_listens(self):
        # Without a held socket the port refuses connections during a restart; Caddy retries the
        # dial for lb_try_duration. (Only for requests without a body on Caddy 2.6: bug #5454.)
        server = self.start_server(*self.server_flags, db_path=self.db_path, workdir=self.workdir)
        caddy = self.start_caddy(server.port)
        self.assertEqual(server.stop(), 0)
        started = time.monotonic()
        client = caddy.client(timeout=30)
        self.addCleanup(client.close)
        probe = Background(lambda: client.get("/healthz"))
        time.sleep(0.5)
        restarted = Server(self.workdir, serve_args(self.db_path, server.port, self.server_flags), server.port)
        self.start_custom_server(restarted)
        self.assertEqual(probe.wait(30).status, 200)
        self.assertGreater(probe.finished_at - started, 0.4)


if __name__ == "__main__":
    unittest.main()
