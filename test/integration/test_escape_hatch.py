"""The escape-hatch drill as a user runs it: an application workload through @libsql/client over
HTTP on monolite+SQLite, `monolite move --cutover`, then the same workload on monolite+PostgreSQL
with only the URL changed. The rows read through the client before and after the move are the
same, PostgreSQL's own tables (read with psql) hold what the client read, and a SQLite-only run of
the same phases ends with the same rows. Fails, never skips, without node, the npm packages or
PostgreSQL."""

import hashlib
import json
import os
import shutil
import subprocess
import unittest

import postgres
from harness import ServerTestCase, bearer, run_cli
from postgres import PostgresServer
from test_security import auth_file_text, new_token, write_file

CLIENTS_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "clients"))
WORKLOAD = os.path.join(CLIENTS_DIR, "workload.mjs")
SEED = 20240611
WORKLOAD_TIMEOUT_S = 180
MOVE_TIMEOUT_S = 300
INTEGER_TYPES = {"bigint", "integer", "smallint"}
TEXT_TYPES = {"text", "character varying"}


def missing_prerequisite():
    """Why the drill cannot run here, or None."""
    if shutil.which("node") is None:
        return "the drill needs node (Node.js 20 or newer) on PATH"
    if not os.path.exists(os.path.join(CLIENTS_DIR, "node_modules", "@libsql", "client", "package.json")):
        return f"the drill needs the npm packages of {CLIENTS_DIR}: run `npm ci` there (test/clients/run.sh does)"
    if not postgres.available():
        return "PostgreSQL 15 is not installed (scripts/deps.sh test installs it)"
    return None


def canonical_value(value, data_type):
    """The workload's canonical form of one psql value (hex of its text, None for NULL)."""
    if value is None:
        return "null"
    text = bytes.fromhex(value).decode("utf-8")
    if data_type in INTEGER_TYPES:
        return str(int(text))
    if data_type in TEXT_TYPES:
        return json.dumps(text, ensure_ascii=False)  # the same escapes as JavaScript's JSON.stringify
    raise AssertionError(f"a column of type {data_type}: the workload has none")


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def psql_checksums(pg, database):
    """Each public table's canonical text, read by psql, hashed as workload.mjs hashes the client's."""
    names = sorted(row[0] for row in pg.psql(
        database, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' "
                  "AND table_type = 'BASE TABLE'"))
    texts = {}
    for name in names:
        columns = pg.psql(database, "SELECT column_name, data_type FROM information_schema.columns WHERE "
                                    f"table_schema = 'public' AND table_name = '{name}' ORDER BY ordinal_position")
        hexed = ", ".join(f"encode(convert_to({c}::text, 'UTF8'), 'hex')" for c, _ in columns)
        rows = pg.psql(database, f"SELECT {hexed} FROM {name} ORDER BY {columns[0][0]}")
        lines = ["[" + ",".join(canonical_value(v, t) for v, (_, t) in zip(row, columns)) + "]\n" for row in rows]
        texts[name] = f"{name}({','.join(c for c, _ in columns)})\n" + "".join(lines)
    return {"tables": {n: sha256(t) for n, t in texts.items()}, "checksum": sha256("".join(texts[n] for n in names)),
            "rows": {n: t.count("\n") - 1 for n, t in texts.items()}}


class EscapeHatchDrillTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        why = missing_prerequisite()
        if why:
            raise cls.failureException(why)
        cls.pg = PostgresServer().start()
        cls.addClassCleanup(cls.pg.stop)

    def setUp(self):
        self.workdir = self.make_tempdir()
        self.tokens = {"admin": new_token(), "write": new_token()}
        self.auth = write_file(os.path.join(self.workdir, "auth.yaml"),
                               auth_file_text([(role, token, role) for role, token in self.tokens.items()]))

    def workload(self, server, phase, verify_only=False):
        """Runs workload.mjs against `server` with the write token; returns its JSON summary."""
        args = ["node", WORKLOAD, "--url", f"http://127.0.0.1:{server.port}", "--token", self.tokens["write"],
                "--seed", str(SEED), "--phase", str(phase)]
        done = subprocess.run(args + (["--verify-only"] if verify_only else []), cwd=CLIENTS_DIR,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=WORKLOAD_TIMEOUT_S)
        what = f"workload phase {phase}{' --verify-only' if verify_only else ''} on :{server.port}"
        self.assertEqual(done.returncode, 0, f"{what} failed:\n{done.stderr}\nserver log:\n{server.log_tail(15)}")
        return json.loads(done.stdout)

    def cutover(self, server, db_path, target):
        done = run_cli(["move", "--cutover", "--url", f"http://127.0.0.1:{server.port}", "--db", db_path,
                        "--to", self.pg.url(target), "--json"], env={"MONOLITE_TOKEN": self.tokens["admin"]},
                       timeout=MOVE_TIMEOUT_S)
        self.assertEqual(done.returncode, 0, done.stderr)
        verify = json.loads(done.stdout)["verify"]
        self.assertTrue(verify["ran"] and verify["ok"], verify)

    def assert_refuses_writes(self, server):
        writer = self.client(server, headers=bearer(self.tokens["write"]))
        resp = writer.execute("INSERT INTO customers(id, name) VALUES (?, ?)", [999999, "too late"])
        self.assertEqual(resp.status, 503, resp.raw)
        self.assertEqual(json.loads(resp.raw)["error"]["code"], "READ_ONLY")

    def sqlite_reference(self):
        """Phases 1 and 2 on a monolite that stays on SQLite: the rows the drill must end with."""
        server = self.start_server("--auth", self.auth, workdir=self.make_tempdir())
        self.workload(server, 1)
        return self.workload(server, 2)

    def test_the_same_workload_after_the_cutover_with_only_the_url_changed(self):
        db_path = os.path.join(self.workdir, "app.db")
        sqlite = self.start_server("--auth", self.auth, db_path=db_path, workdir=self.workdir)
        phase1 = self.workload(sqlite, 1)
        before = self.workload(sqlite, 1, verify_only=True)  # every acknowledged write of phase 1, read back
        self.assertEqual(before["checksum"], phase1["checksum"])

        target = self.pg.new_database()
        self.cutover(sqlite, db_path, target)
        self.assert_refuses_writes(sqlite)
        self.assertEqual(self.workload(sqlite, 1, verify_only=True)["checksum"], before["checksum"])  # reads go on

        postgresql = self.start_server("--auth", self.auth, db_path=self.pg.url(target), workdir=self.workdir)
        after = self.workload(postgresql, 1, verify_only=True)
        self.assertEqual(after["tables"], before["tables"])  # every table, every row, as SQLite served them
        self.assertEqual(after["checksum"], before["checksum"])
        self.assertEqual(psql_checksums(self.pg, target)["checksum"], before["checksum"])

        phase2 = self.workload(postgresql, 2)
        direct = psql_checksums(self.pg, target)
        self.assertEqual((direct["tables"], direct["rows"]), (phase2["tables"], phase2["rows"]))
        self.assertEqual(direct["checksum"], phase2["checksum"])
        reference = self.sqlite_reference()
        self.assertEqual((reference["tables"], reference["rows"]), (phase2["tables"], phase2["rows"]))
        self.assertEqual(reference["checksum"], phase2["checksum"])


if __name__ == "__main__":
    unittest.main()
