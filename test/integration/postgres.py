"""A real PostgreSQL 15 for the integration tests: initdb in a temporary folder owned by the
postgres user, one server on a free loopback port (stopped by pg_ctl on that folder, then by
PID), and a fresh database for each test (CREATE DATABASE). Every wait is bounded.

shared_server() is the one server of a test process that runs with MONOLITE_TEST_ENGINE=postgres
(harness.launch_server creates a database on it for each monolite)."""

import atexit
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
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
        return self.resume()

    def resume(self):
        """Starts the server on its folder and port (after start() made them, or after halt())."""
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

    def halt(self):
        """Stops the server (pg_ctl, then its PID) and keeps its data for resume()."""
        if self.pid is None:
            return
        _as_postgres([f"{PG_BIN}/pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop"])
        if not wait_until(lambda: not _alive(self.pid), 10) and _alive(self.pid):
            os.kill(self.pid, 9)
        self.pid = None

    def stop(self):
        self.halt()
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, db="postgres"):
        return f"postgresql://postgres@{HOST}:{self.port}/{db}"

    def new_database(self):
        name = "t_" + uuid.uuid4().hex[:12]
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name

    def psql(self, db, sql, check=True):
        """Runs `sql`; returns its rows (tuples of text, NULL as None) or raises on error."""
        return psql_at(self.url(db), sql, check)


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def psql_at(url, sql, check=True):
    """Runs `sql` on the database at `url`; its rows (tuples of text, NULL as None), or the
    CompletedProcess with check=False. Raises on error with check=True."""
    done = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\x1f", "-P", "null=" + NULL_MARK,
                           "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql], capture_output=True, text=True, timeout=120)
    if check and done.returncode != 0:
        raise RuntimeError(f"psql failed: {done.stderr}")
    if not check:
        return done
    rows = []
    for line in done.stdout.rstrip("\n").split("\n") if done.stdout.strip("\n") else []:
        rows.append(tuple(None if f == NULL_MARK else f for f in line.split("\x1f")))
    return rows


# ------------------------------------------------------- the test process's server

_shared = None
_exit_hooks_installed = False


def shared_server():
    """The test process's PostgreSQL, started on first use. It is stopped when the test module
    that started it ends (a unittest module cleanup), at exit and on SIGTERM; a later module
    starts another. Raises (the test fails, never skips) when PostgreSQL cannot start."""
    global _shared
    if _shared is None:
        if not available():
            raise RuntimeError(f"MONOLITE_TEST_ENGINE=postgres needs PostgreSQL 15 in {PG_BIN} and psql "
                               "(scripts/deps.sh test installs them)")
        server = PostgresServer()
        try:
            server.start()
        except Exception:
            server.stop()
            raise
        _shared = server
        _install_exit_hooks()
        unittest.addModuleCleanup(stop_shared_server)
    return _shared


def stop_shared_server():
    global _shared
    server, _shared = _shared, None
    if server is not None:
        server.stop()


def _install_exit_hooks():
    global _exit_hooks_installed
    if _exit_hooks_installed:
        return
    _exit_hooks_installed = True
    atexit.register(stop_shared_server)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _stop_then_die)


def _stop_then_die(signum, _frame):
    """SIGTERM skips atexit: stop PostgreSQL first, then die of the signal as before."""
    stop_shared_server()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def new_shared_database_url():
    """A fresh database on the shared server, as a --db URL."""
    server = shared_server()
    return server.url(server.new_database())
