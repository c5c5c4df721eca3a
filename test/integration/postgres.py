"""A real PostgreSQL 15 for the integration tests: initdb in a temporary folder owned by the
postgres user, one server on a free loopback port (stopped by pg_ctl on that folder, then by
PID), and a fresh database for each test (CREATE DATABASE). Every wait is bounded."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid

from harness import HOST, free_port, wait_until

PG_BIN = "/usr/lib/postgresql/15/bin"
START_TIMEOUT_S = 30.0
NULL_MARK = "<null:monolite>"


def available():
    return os.path.exists(os.path.join(PG_BIN, "initdb")) and shutil.which("psql") is not None


def _as_postgres(args, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True,
                          timeout=60, **kwargs)


class PostgresServer:
    """One PostgreSQL server; `url(db)` names a database on it, `psql(db, sql)` runs SQL."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="monolite-pg-")
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.port = free_port()
        self.pid = None

    def start(self):
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        done = _as_postgres([f"{PG_BIN}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                             "--locale=C.UTF-8"])
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr}")
        options = f"-p {self.port} -k {self.dir} -c listen_addresses={HOST} -c fsync=off"
        started = _as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-o", options, "-l",
                                os.path.join(self.dir, "log"), "-w", "-t", str(int(START_TIMEOUT_S)), "start"])
        if started.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {started.stderr} {self.log()}")
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())
        ready = wait_until(lambda: subprocess.run([f"{PG_BIN}/pg_isready", "-h", HOST, "-p", str(self.port)],
                                                  capture_output=True).returncode == 0, START_TIMEOUT_S)
        if not ready:
            raise RuntimeError("PostgreSQL did not become ready: " + self.log())
        return self

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.pid is not None:
            _as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"])
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(self.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
            else:
                os.kill(self.pid, 9)
            self.pid = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db="postgres"):
        return f"postgresql://postgres@{HOST}:{self.port}/{db}"

    def new_database(self):
        name = "t_" + uuid.uuid4().hex[:12]
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name

    def psql(self, db, sql, check=True):
        """Runs `sql`; returns its rows (tuples of text, NULL as None) or raises on error."""
        done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-P", "null=" + NULL_MARK, "-v", "ON_ERROR_STOP=1",
                               "-d", self.url(db), "-c", sql], capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr}")
        if not check:
            return done
        rows = []
        for line in done.stdout.rstrip("\n").split("\n") if done.stdout.strip("\n") else []:
            rows.append(tuple(None if f == NULL_MARK else f for f in line.split("\x1f")))
        return rows
