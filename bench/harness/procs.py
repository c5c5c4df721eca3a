"""Starting and stopping what the benchmark runs: monolite, PostgreSQL, and the cleanup ledger.

Every process or cluster started is written to a ledger file; bench/run.sh's EXIT trap reads it
and stops whatever is still listed, so nothing is left running even if Python itself is killed.
"""
import threading
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class Ledger:
    """Lines 'pid PID NAME' and 'pgdata DIR' for everything still running."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: list[str] = []

    def add(self, entry: str) -> None:
        self.entries.append(entry)
        self._write()

    def remove(self, entry: str) -> None:
        if entry in self.entries:
            self.entries.remove(entry)
            self._write()

    def _write(self) -> None:
        self.path.write_text("".join(e + "\n" for e in self.entries))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw) -> str:
    """Runs a command, returns stdout; raises with its stderr on failure."""
    cmd = list(map(str, cmd))
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()[-2000:]}")
    return p.stdout


def as_postgres(cmd: list) -> list:
    return ["runuser", "-u", "postgres", "--", *cmd]


def wait_for_file(path: Path, seconds: float) -> None:
    """The server binary may be rebuilt while we start; wait for it to come back."""
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            raise FileNotFoundError(path)
        time.sleep(1)


class Monolite:
    """One `monolite serve` process on a free loopback port."""

    def __init__(self, binary: Path, db: Path, synchronous: str, ledger: Ledger, log: Path,
                 extra: tuple = (), env: dict | None = None):
        self.binary, self.db, self.synchronous = binary, db, synchronous
        self.ledger, self.log, self.extra, self.env = ledger, log, extra, env
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.exit_code: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __enter__(self):
        for _ in range(5):  # another process may grab the free port first
            if self._start():
                return self
        raise RuntimeError(f"monolite did not start; see {self.log}")

    def _start(self) -> bool:
        self.port = free_port()
        cmd = [self.binary, "serve", "--db", self.db, "--listen", f"127.0.0.1:{self.port}",
               "--synchronous", self.synchronous, *self.extra]
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(list(map(str, cmd)), stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL, env=self.env)
        self._entry = f"pid {self.proc.pid} monolite"
        self.ledger.add(self._entry)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.ledger.remove(self._entry)
                return False
            if self._listening():
                return True
            time.sleep(0.05)
        self.__exit__()
        return False

    def _listening(self) -> bool:
        for line in self.log.read_text(errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("msg") == "listening" and rec.get("port") == self.port:
                return True
        return False

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.exit_code = self.proc.returncode
            self.ledger.remove(self._entry)

    def kill9(self) -> None:
        """SIGKILL, as a crash would: nothing is flushed, nothing more is answered."""
        self.proc.kill()
        self.proc.wait()
        self.exit_code = self.proc.returncode
        self.ledger.remove(self._entry)

    def post(self, path: str, body: dict) -> dict:
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def scalar(self, sql: str):
        return self.post("/sql/query", {"sql": sql, "params": []})["rows"][0][0]


class Postgres:
    """A throwaway PostgreSQL 15 cluster in DIR (owned by postgres), on a free loopback port."""

    def __init__(self, directory: Path, ledger: Ledger):
        self.dir, self.ledger = directory, ledger
        self.data = directory / "data"
        self.port = 0
        self._entry = f"pgdata {self.data}"

    def __enter__(self):
        self.dir.mkdir(mode=0o700)
        shutil.chown(self.dir, "postgres", "postgres")
        run(as_postgres([PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "-A", "trust",
                         "-E", "UTF8", "--no-sync"]))
        self.port = free_port()
        opts = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.dir}"
                " -c max_connections=300 -c shared_buffers=256MB")
        self.ledger.add(self._entry)
        run(as_postgres([PG_BIN / "pg_ctl", "-D", self.data, "-l", self.dir / "server.log",
                         "-o", opts, "-w", "-t", "60", "start"]))
        return self

    def __exit__(self, *exc):
        if (self.data / "postmaster.pid").exists():
            subprocess.run(as_postgres([PG_BIN / "pg_ctl", "-D", self.data, "-m", "fast", "-w",
                                        "stop"]), capture_output=True)
        self.ledger.remove(self._entry)

    def conn_args(self) -> list:
        return ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def psql(self, *args) -> str:
        return self.psql_in("postgres", *args)

    def psql_in(self, database: str, *args) -> str:
        return run(["psql", *self.conn_args(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", *args, database])

    def scalar(self, sql: str) -> str:
        return self.psql("-c", sql).strip()

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def scalar_in(self, database: str, sql: str) -> str:
        return self.psql_in(database, "-c", sql).strip()

    @property
    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def ensure_binary(src: Path, dst: Path) -> Path:
    """Copies the server binary once so a rebuild during the run does not change what we measure."""
    wait_for_file(src, 120)
    for _ in range(30):
        try:
            shutil.copy2(src, dst)
            run([dst, "version"])
            return dst
        except (OSError, RuntimeError):
            time.sleep(2)
    raise RuntimeError(f"cannot copy a working {src}")


def env_with(**kw) -> dict:
    env = dict(os.environ)
    env.update({k: str(v) for k, v in kw.items()})
    return env


class Background:
    """A daemon thread running self._run() from entering a `with` block until leaving it, when
    self._stop is set and the thread joined (at most `join_timeout` s)."""
    join_timeout = 10

    def __init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(self.join_timeout)

    def _run(self):
        raise NotImplementedError
