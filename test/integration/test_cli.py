"""Command line: help, version, usage errors, flag/env/config precedence, logs."""

import os
import subprocess
import time
import unittest

from harness import (HOST, Server, ServerTestCase, closed_by_peer, free_port, open_socket,
                     raw_request, read_response, run_cli, serve_args)

SUBCOMMANDS = ["serve", "restore", "verify", "generations", "snapshots"]
# Never finishes on its own: only the statement timeout stops it.
RUNAWAY = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
           "SELECT count(*) FROM c")

SERVE_FLAGS = ["--db", "--listen", "--readers", "--threads", "--synchronous", "--cache-size",
               "--busy-timeout", "--max-body", "--shutdown-grace", "--writer-queue",
               "--idle-timeout", "--log-level", "--config"]


class CliTestCase(ServerTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = os.path.join(self.workdir, "app.db")

    def run_monolite(self, *args, env=None, cwd=None):
        try:
            return run_cli(list(args), env=env, cwd=cwd)
        except subprocess.TimeoutExpired:
            self.fail(f"monolite {' '.join(args)} did not exit")

    def write_config(self, text, name="monolite.yaml"):
        path = os.path.join(self.workdir, name)
        with open(path, "w", encoding="utf-8") as config:
            config.write(text)
        return path

    def serve(self, args, port, env=None, cwd=None):
        """Starts `monolite serve ARGS` and waits for /healthz on `port` (None: the logged one)."""
        server = Server(self.workdir, args, port, env=env, cwd=cwd)
        return self.start_custom_server(server)

    def assert_listening_logged(self, server, port):
        self.assertEqual(server.logged_port(), port, f"log:\n{server.log_tail()}")


class HelpAndVersionTest(CliTestCase):
    def test_top_level_help(self):
        result = self.run_monolite("--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("serve", result.stdout)
        self.assertIn("version", result.stdout)

    def test_serve_help_lists_every_flag(self):
        result = self.run_monolite("serve", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        for flag in SERVE_FLAGS:
            self.assertIn(flag, result.stdout)

    def test_every_subcommand_help_says_the_duration_syntax(self):
        for command in SUBCOMMANDS:
            with self.subTest(command=command):
                result = self.run_monolite(command, "--help")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("DURATION: 250ms, 5s, 2m, 24h; a plain number is seconds", result.stdout)

    def test_version_help(self):
        result = self.run_monolite("version", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("version", result.stdout.lower())

    def test_version_names_all_components(self):
        result = self.run_monolite("version")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"(?i)monolite\D*\d+\.\d+\.\d+")
        self.assertRegex(result.stdout, r"(?i)sqlite\D*3\.\d+\.\d+")
        self.assertRegex(result.stdout, r"(?i)boost\D*1[._]81")


class UsageErrorTest(CliTestCase):
    def serve_args_with(self, *args):
        return ["serve", *serve_args(self.db_path, free_port()), *args]

    def assert_usage_error(self, args, mentions, env=None):
        result = self.run_monolite(*args, env=env)
        self.assertEqual(result.returncode, 2, f"stderr: {result.stderr}")
        self.assertIn(mentions.lower(), result.stderr.lower())

    def test_unknown_subcommand(self):
        self.assert_usage_error(["frobnicate"], "frobnicate")

    def test_unknown_flag(self):
        self.assert_usage_error(self.serve_args_with("--bogus-flag"), "bogus-flag")

    def test_bad_flag_values(self):
        cases = [("--readers", "abc"), ("--threads", "many"), ("--synchronous", "bogus"),
                 ("--max-body", "lots"), ("--log-level", "loud"), ("--writer-queue", "x1"),
                 ("--busy-timeout", "soon"), ("--shutdown-grace", "later")]
        for flag, value in cases:
            with self.subTest(flag=flag):
                self.assert_usage_error(self.serve_args_with(flag, value), flag.lstrip("-"))

    def test_bad_listen_address(self):
        args = ["serve", "--db", self.db_path, "--listen", f"{HOST}:notaport"]
        self.assert_usage_error(args, "listen")

    def test_missing_config_file(self):
        missing = os.path.join(self.workdir, "missing.yaml")
        self.assert_usage_error(self.serve_args_with("--config", missing), "missing.yaml")

    def test_unknown_config_key(self):
        config = self.write_config("frobnicate: 1\n")
        self.assert_usage_error(self.serve_args_with("--config", config), "frobnicate")

    def test_bad_config_value(self):
        config = self.write_config("readers: abc\n")
        self.assert_usage_error(self.serve_args_with("--config", config), "readers")

    def test_malformed_config_file(self):
        config = self.write_config("listen: [unclosed\n")
        result = self.run_monolite(*self.serve_args_with("--config", config))
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertTrue(result.stderr.strip())

    def test_bad_env_value(self):
        self.assert_usage_error(self.serve_args_with(), "readers",
                                env={"MONOLITE_READERS": "abc"})

    def test_config_key_of_the_wrong_type_names_the_key(self):
        cases = [("? [a, b]\n: 1\n", "[a, b]"), ("? {readers: 2}\n: 1\n", "readers: 2"),
                 ("readers: [1, 2]\n", "readers"), ("readers: {n: 1}\n", "readers")]
        for text, mentions in cases:
            with self.subTest(config=text):
                config = self.write_config(text)
                result = self.run_monolite(*self.serve_args_with("--config", config))
                self.assertEqual(result.returncode, 2, f"stderr: {result.stderr}")
                self.assertIn(mentions, result.stderr)
                self.assertNotIn("unexpected failure", result.stderr)


class DurationAndBooleanTest(CliTestCase):
    """One syntax for every time-valued and boolean option, from a flag, a variable or a file."""

    def start(self, flags=(), env=None):
        port = free_port()
        return self.serve(serve_args(self.db_path, port, flags), port, env=env)

    def assert_stopped_after_a_second(self, server):
        http = self.client(server, timeout=30)
        started = time.monotonic()
        self.assert_error(http.query(RUNAWAY), 504, "SQLITE_INTERRUPT")
        self.assertLess(time.monotonic() - started, 10.0, "a 1s statement timeout read as much longer")

    def test_unit_suffixed_flags_start_and_take_effect(self):
        server = self.start(["--statement-timeout", "1s", "--shutdown-grace", "2s", "--idle-timeout", "500ms",
                             "--busy-timeout", "2s", "--access-log", "--replica-sync=false"])
        sock = self.socket(server)
        sock.sendall(raw_request("GET", "/healthz"))
        self.assert_ok(read_response(sock.makefile("rb")))
        self.assertTrue(closed_by_peer(sock, 10), "a 500ms idle timeout read as much longer")
        self.assert_stopped_after_a_second(server)
        self.assertEqual(server.stop(), 0)

    def test_statement_timeout_from_the_environment(self):
        self.assert_stopped_after_a_second(self.start(env={"MONOLITE_STATEMENT_TIMEOUT": "1s"}))

    def test_statement_timeout_from_the_config_file(self):
        config = self.write_config("statement_timeout: 1s\nidle_timeout: 250ms\naccess_log: true\n")
        self.assert_stopped_after_a_second(self.start(["--config", config]))

    def test_a_bad_duration_exits_2_naming_the_flag(self):
        args = ["serve", *serve_args(self.db_path, free_port())]
        cases = [(args + ["--statement-timeout", "soon"], None, "--statement-timeout"),
                 (args, {"MONOLITE_STATEMENT_TIMEOUT": "soon"}, "--statement-timeout"),
                 (args + ["--config", self.write_config("statement_timeout: soon\n")], None, "--statement-timeout"),
                 (args + ["--idle-timeout", "5 s"], None, "--idle-timeout"),
                 (["verify", "--replica", f"file://{self.workdir}/r", "--wait", "soon"], None, "--wait")]
        for case_args, env, flag in cases:
            with self.subTest(args=case_args, env=env):
                result = self.run_monolite(*case_args, env=env)
                self.assertEqual(result.returncode, 2, f"stderr: {result.stderr}")
                self.assertIn(flag, result.stderr)
                self.assertIn("250ms", result.stderr)

    def test_a_bad_boolean_exits_2_naming_the_flag(self):
        args = ["serve", *serve_args(self.db_path, free_port())]
        for case_args, flag in [(args + ["--access-log=yes"], "--access-log"),
                                (args + ["--config", self.write_config("replica_sync: on\n")], "--replica-sync"),
                                (["restore", "-o", os.path.join(self.workdir, "out.db"), "--replica",
                                  f"file://{self.workdir}/r", "--if-db-not-exists=1"], "--if-db-not-exists")]:
            with self.subTest(args=case_args):
                result = self.run_monolite(*case_args)
                self.assertEqual(result.returncode, 2, f"stderr: {result.stderr}")
                self.assertIn(flag, result.stderr)
                self.assertIn("true or false", result.stderr)


class PrecedenceTest(CliTestCase):
    """flag > MONOLITE_* environment > config file > default."""

    QUERY_OF_300_BYTES = b'{"sql": "SELECT \'' + b"x" * 280 + b'\'"}'  # 20 + 280 bytes

    def test_listen_flag_beats_env_beats_config(self):
        port_file, port_env, port_flag = free_port(), free_port(), free_port()
        config = self.write_config(f"listen: {HOST}:{port_file}\ndb: {self.db_path}\n")
        env = {"MONOLITE_LISTEN": f"{HOST}:{port_env}"}
        cases = [
            (["--config", config, "--listen", f"{HOST}:{port_flag}"], env, port_flag),
            (["--config", config], env, port_env),
            (["--config", config], None, port_file),
        ]
        for args, case_env, expected in cases:
            with self.subTest(expected=expected):
                server = self.serve(args, expected, env=case_env)
                self.assert_listening_logged(server, expected)
                self.assertEqual(server.stop(), 0)

    def test_max_body_flag_beats_env(self):
        env = {"MONOLITE_MAX_BODY": "200"}
        self.assertEqual(self.post_status(["--db", self.db_path], env), 413)
        args = ["--db", self.db_path, "--max-body", "100000"]
        self.assertEqual(self.post_status(args, env), 200)

    def test_max_body_env_beats_config(self):
        args = ["--config", self.write_config(f"max-body: 200\ndb: {self.db_path}\n")]
        self.assertEqual(self.post_status(args, None), 413)
        self.assertEqual(self.post_status(args, {"MONOLITE_MAX_BODY": "100000"}), 200)

    def test_config_values_expand_environment_variables(self):
        port = free_port()
        config = self.write_config(f"listen: {HOST}:${{IT_PORT}}\ndb: ${{IT_DIR}}/env.db\n")
        server = self.serve(["--config", config], port,
                            env={"IT_PORT": str(port), "IT_DIR": self.workdir})
        self.assert_listening_logged(server, port)
        self.assertTrue(os.path.exists(os.path.join(self.workdir, "env.db")))

    def post_status(self, args, env):
        """Status of a 300-byte /sql/query POST to a server started with ARGS and env."""
        port = free_port()
        server = self.serve([*args, "--listen", f"{HOST}:{port}"], port, env=env)
        client = server.client()
        try:
            return client.request("POST", "/sql/query", self.QUERY_OF_300_BYTES).status
        finally:
            client.close()
            self.assertEqual(server.stop(), 0)


class StartupTest(CliTestCase):
    def test_port_zero_binds_an_ephemeral_port_and_logs_it(self):
        server = self.serve(["--db", self.db_path, "--listen", f"{HOST}:0"], None)
        self.assertGreater(server.port, 0)
        self.assertEqual(self.assert_ok(self.client(server).get("/healthz")), {"status": "ok"})

    def test_db_from_env(self):
        port = free_port()
        db_path = os.path.join(self.workdir, "from-env.db")
        self.serve(["--listen", f"{HOST}:{port}"], port, env={"MONOLITE_DB": db_path})
        self.assertTrue(os.path.exists(db_path))

    def test_default_db_path_creates_its_folder(self):
        port = free_port()
        self.serve(["--listen", f"{HOST}:{port}"], port, cwd=self.workdir)
        self.assertTrue(os.path.exists(os.path.join(self.workdir, "data", "app.db")))


class DatabaseSettingsTest(CliTestCase):
    def start(self, *flags):
        port = free_port()
        server = self.serve(serve_args(self.db_path, port, flags), port)
        return self.client(server)

    def writer_pragmas(self, http, names):
        """PRAGMA values seen by the writer connection (through /sql/batch)."""
        batch = self.assert_ok(http.batch([{"sql": f"PRAGMA {n}"} for n in names]))
        return {n: r["rows"][0][0] for n, r in zip(names, batch["results"], strict=True)}

    def reader_pragmas(self, http, names):
        return {n: self.query_value(http, f"PRAGMA {n}") for n in names}

    def test_defaults(self):
        http = self.start()
        self.assertEqual(self.writer_pragmas(http, ["synchronous", "journal_mode", "foreign_keys"]),
                         {"synchronous": 1, "journal_mode": "wal", "foreign_keys": 1})

    def test_tuning_flags_reach_the_connections(self):
        http = self.start("--synchronous", "full", "--cache-size", "500",
                          "--busy-timeout", "250", "--readers", "1", "--threads", "1",
                          "--writer-queue", "8")
        expected = {"cache_size": 500, "busy_timeout": 250}
        self.assertEqual(self.writer_pragmas(http, list(expected)), expected)
        self.assertEqual(self.reader_pragmas(http, list(expected)), expected)
        self.assertEqual(self.writer_pragmas(http, ["synchronous"]), {"synchronous": 2})


class LogFormatTest(CliTestCase):
    def serve_default(self, *extra):
        port = free_port()
        return self.serve(serve_args(self.db_path, port, extra), port)

    def log_after_some_traffic(self, server):
        with open_socket(server.port) as sock:
            sock.sendall(raw_request("GET", "/no/such/path"))
            self.assertEqual(read_response(sock.makefile("rb")).status, 404)
        self.assertEqual(server.stop(), 0)
        return server.log_text().splitlines()

    def test_every_line_is_a_json_record(self):
        server = self.serve_default()
        self.assert_listening_logged(server, server.port)
        lines = self.log_after_some_traffic(server)
        self.assertTrue(lines)
        records = server.log_records()
        self.assertEqual(len(records), len(lines), "some log lines are not JSON objects")
        for record in records:
            self.assertTrue({"ts", "level", "msg"} <= record.keys(), record)

    def test_log_level_error_hides_info(self):
        server = self.serve_default("--log-level", "error")
        self.log_after_some_traffic(server)
        levels = {record.get("level") for record in server.log_records()}
        self.assertTrue(levels <= {"error"}, levels)


if __name__ == "__main__":
    unittest.main()
