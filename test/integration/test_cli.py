"""Command line: help, version, usage errors, flag/env/config precedence, logs."""

import os
import subprocess
import unittest

from harness import (HOST, ServerTestCase, Server, free_port, raw_request, read_response,
                     run_cli, serve_args)

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
        """Starts `monolite serve ARGS` and waits for /healthz on `port`."""
        server = Server(self.workdir, args, port, env=env, cwd=cwd)
        return self.start_custom_server(server)

    def assert_listening_logged(self, server, port):
        records = [r for r in server.log_records() if r.get("msg") == "listening"]
        self.assertTrue(records, f"no 'listening' log line; log:\n{server.log_tail()}")
        self.assertEqual(records[-1].get("port"), port)


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
        config = self.write_config("bogus_key: 1\n")
        self.assert_usage_error(self.serve_args_with("--config", config), "bogus_key")

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


class PrecedenceTest(CliTestCase):
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

    def test_config_values_expand_environment_variables(self):
        port = free_port()
        config = self.write_config(f"listen: {HOST}:${{IT_PORT}}\ndb: ${{IT_DIR}}/env.db\n")
        server = self.serve(["--config", config], port,
                            env={"IT_PORT": str(port), "IT_DIR": self.workdir})
        self.assert_listening_logged(server, port)
        self.assertTrue(os.path.exists(os.path.join(self.workdir, "env.db")))

    def test_db_from_env(self):
        port = free_port()
        db_path = os.path.join(self.workdir, "from-env.db")
        self.serve(["--listen", f"{HOST}:{port}"], port, env={"MONOLITE_DB": db_path})
        self.assertTrue(os.path.exists(db_path))

    def test_default_db_path_creates_its_folder(self):
        port = free_port()
        self.serve(["--listen", f"{HOST}:{port}"], port, cwd=self.workdir)
        self.assertTrue(os.path.exists(os.path.join(self.workdir, "data", "app.db")))

    def test_max_body_from_env_and_flag_override(self):
        body = b'{"sql": "SELECT \'' + b"x" * 300 + b'\'"}'
        env = {"MONOLITE_MAX_BODY": "200"}
        cases = [([], 413), (["--max-body", "100000"], 200)]
        for extra, expected_status in cases:
            with self.subTest(extra=extra):
                port = free_port()
                server = self.serve(serve_args(self.db_path, port, extra), port, env=env)
                resp = self.client(server).request("POST", "/sql/query", body)
                self.assertEqual(resp.status, expected_status, resp.raw)
                server.stop()


class LogFormatTest(CliTestCase):
    def serve_default(self, *extra):
        port = free_port()
        return self.serve(serve_args(self.db_path, port, extra), port)

    def log_after_some_traffic(self, server):
        sock = self.socket(server)
        sock.sendall(raw_request("GET", "/no/such/path"))
        read_response(sock.makefile("rb"))
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
