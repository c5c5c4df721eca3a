"""The container image, built and run with podman against S3 (moto_server, signatures checked).

    python3 test/deploy/container_test.py            # builds the image, then runs the tests
    MONOLITE_IMAGE=localhost/monolite:x python3 ...  # tests an image built already

Restore-and-boot: rows written to a container with a replica come back in a fresh container on a
new, empty volume, after the first container and its volume are removed; `podman stop` (SIGTERM to
PID 1) exits 0. A bad or unreachable replica stops the container with an error instead of serving an
empty database; an empty replica is a first boot. Prints the time from `podman run` to the first
answered query (RTO).

Needs root, podman, runc and debootstrap (scripts/deps.sh container). No registry is reachable, so
the base image comes from test/deploy/base_image.sh. Containers use the host network and bind
loopback only; every container and volume is named here and removed by that name.
"""

import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "test", "integration"))

from harness import Client, free_port, stmt, wait_until  # noqa: E402
from moto import MotoServer  # noqa: E402

RUN = ["podman", "--runtime", "runc", "run", "--network=host",
       "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
BUILD_TIMEOUT_S = 3600
READY_TIMEOUT_S = 120.0
EXIT_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30
ROWS = 2000

_image = None
_prefix = f"monolite-ct-{os.getpid()}"
_names = []


def podman(*args, check=True, timeout=120):
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def build_image(tag=None):
    """Builds the Dockerfile (after making the base image available); returns the image name."""
    tag = tag or f"localhost/monolite:test-{os.getpid()}"
    subprocess.run([os.path.join(HERE, "base_image.sh")], check=True, timeout=BUILD_TIMEOUT_S)
    started = time.monotonic()
    # `--format docker` keeps HEALTHCHECK (the OCI format has no field for it).
    subprocess.run(["podman", "build", "--pull=never", "--isolation=chroot", "--format", "docker",
                    "--build-arg", f"JOBS={os.environ.get('MONOLITE_BUILD_JOBS', '2')}", "-t", tag, REPO],
                   check=True, timeout=BUILD_TIMEOUT_S, stdout=sys.stderr)
    size = podman("image", "inspect", tag, "--format", "{{.Size}}").stdout.strip()
    print(f"image {tag}: {int(size) / 1e6:.1f} MB, built in {time.monotonic() - started:.0f} s", file=sys.stderr)
    return tag


def unique(kind):
    name = f"{_prefix}-{kind}-{len(_names)}"
    _names.append(name)
    return name


class Container:
    """One detached container of the image, on the host network, listening on 127.0.0.1:port."""

    def __init__(self, volume, env, mounts=()):
        self.name = unique("c")
        self.port = free_port()
        self.volume = volume
        self.env = {"MONOLITE_LISTEN": f"127.0.0.1:{self.port}", **env}
        self.mounts = list(mounts)
        self.started_at = None

    def start(self, *args):
        command = [*RUN, "-d", "--name", self.name, "-v", f"{self.volume}:/data"]
        for source, target in self.mounts:
            command += ["-v", f"{source}:{target}:ro"]
        for key, value in self.env.items():
            command += ["-e", f"{key}={value}"]
        self.started_at = time.monotonic()
        subprocess.run([*command, _image, *args], check=True, capture_output=True, text=True, timeout=120)
        return self

    def client(self, timeout=30.0):
        return Client(self.port, timeout)

    def query(self, sql, headers=None):
        """The response of one query, or None while nothing answers."""
        client = self.client(timeout=5.0)
        try:
            return client.request("POST", "/sql/query", json.dumps(stmt(sql)).encode(),
                                  {"Content-Type": "application/json", **(headers or {})})
        except OSError:
            return None
        finally:
            client.close()

    def wait_answering(self, sql, timeout=READY_TIMEOUT_S):
        """Polls `sql` until it is answered 200; returns (response, seconds since start)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            resp = self.query(sql)
            if resp is not None and resp.status == 200:
                return resp, time.monotonic() - self.started_at
            if not self.running():
                raise AssertionError(f"container exited ({self.exit_code()}):\n{self.logs()}")
            time.sleep(0.02)
        raise AssertionError(f"no answer within {timeout} s:\n{self.logs()}")

    def state(self):
        return json.loads(podman("inspect", self.name).stdout)[0]["State"]

    def running(self):
        return self.state()["Running"]

    def exit_code(self):
        return self.state()["ExitCode"]

    def wait_exit(self, timeout=EXIT_TIMEOUT_S):
        if not wait_until(lambda: not self.running(), timeout, interval=0.2):
            raise AssertionError(f"still running after {timeout} s:\n{self.logs()}")
        return self.exit_code()

    def stop(self):
        """`podman stop`: SIGTERM to PID 1, SIGKILL after STOP_TIMEOUT_S. Returns the exit code."""
        podman("stop", "-t", str(STOP_TIMEOUT_S), self.name, timeout=STOP_TIMEOUT_S + 30)
        return self.exit_code()

    def logs(self):
        result = podman("logs", self.name, check=False)
        return (result.stdout + result.stderr)[-6000:]

    def log_records(self):
        records = []
        for line in self.logs().splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
        return [r for r in records if isinstance(r, dict)]

    def remove(self):
        podman("rm", "-f", "-t", "0", self.name, check=False)


def new_volume():
    name = unique("v")
    podman("volume", "create", name)
    return name


def volume_files(volume):
    result = subprocess.run([*RUN, "--rm", "--entrypoint", "ls", "-v", f"{volume}:/data", _image, "-A", "/data"],
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout.split()


def fill(container, rows, row_bytes=1000, per_request=2000):
    """Inserts `rows` rows of about `row_bytes` (half random hex, half repeated text, so that they
    compress about as well as typical data) through the API."""
    client = container.client(timeout=120)
    try:
        resp = client.execute("CREATE TABLE IF NOT EXISTS filler(id INTEGER PRIMARY KEY, body TEXT)")
        assert resp.status == 200, resp.raw
        done = 0
        while done < rows:
            n = min(per_request, rows - done)
            sql = ("INSERT INTO filler(body) SELECT hex(randomblob(?)) || printf('%.*c', ?, 'x') "
                   "FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
                   "SELECT x FROM c)")
            resp = client.execute(sql, [row_bytes // 4, row_bytes // 2, n])
            assert resp.status == 200, resp.raw
            done += n
    finally:
        client.close()


def setUpModule():
    global _image
    _image = os.environ.get("MONOLITE_IMAGE") or build_image()


def tearDownModule():
    for name in reversed(_names):
        podman("rm", "-f", "-t", "0", name, check=False)
        podman("volume", "rm", "-f", name, check=False)
    if not os.environ.get("MONOLITE_IMAGE") and os.environ.get("MONOLITE_KEEP_IMAGE") != "1" and _image:
        podman("rmi", "-f", _image, check=False)


class ContainerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s3 = MotoServer()
        cls.s3.start()
        cls.addClassCleanup(cls.s3.stop)

    def replica_env(self, prefix=None, secret=None):
        prefix = prefix or f"ct/{secrets.token_hex(4)}"
        return {"MONOLITE_REPLICA": self.s3.url(prefix), **self.s3.env(secret), "MONOLITE_INSECURE_NO_AUTH": "true"}

    def container(self, volume, env, mounts=()):
        container = Container(volume, env, mounts)
        self.addCleanup(container.remove)
        return container

    def test_restore_and_boot_on_an_empty_volume(self):
        env = self.replica_env()
        first = self.container(new_volume(), env).start()
        first.wait_answering("SELECT 1")
        self.assertEqual(podman("exec", first.name, "cat", "/proc/1/comm").stdout.strip(), "monolite",
                         "monolite must be PID 1 so that it receives SIGTERM")
        self.assertEqual(podman("healthcheck", "run", first.name, check=False).returncode, 0, first.logs())
        fill(first, ROWS)
        client = first.client()
        self.assertEqual(client.execute("INSERT INTO filler(id, body) VALUES (-1, 'last')").status, 200)
        client.close()

        # No waiting for the replica: a graceful stop ships what was committed.
        self.assertEqual(first.stop(), 0, first.logs())
        self.assertTrue(any(r.get("msg") == "stopped" for r in first.log_records()), first.logs())
        first.remove()
        podman("volume", "rm", first.volume)

        second = self.container(new_volume(), env).start()
        resp, rto = second.wait_answering("SELECT count(*), max(body = 'last') FROM filler")
        self.assertEqual(resp.body["rows"], [[ROWS + 1, 1]], second.logs())
        print(f"\nRTO (podman run to the first answered query), small database: {rto:.2f} s", file=sys.stderr)
        self.assertTrue(any("restor" in r.get("msg", "") for r in second.log_records()), second.logs())
        self.assertEqual(second.stop(), 0, second.logs())

    def test_restart_keeps_the_volume_and_does_not_restore(self):
        volume = new_volume()
        first = self.container(volume, self.replica_env()).start()
        first.wait_answering("SELECT 1")
        client = first.client()
        self.assertEqual(client.execute("CREATE TABLE kept(x)").status, 200)
        client.close()
        self.assertEqual(first.stop(), 0, first.logs())
        podman("start", first.name)
        first.started_at = time.monotonic()
        first.wait_answering("SELECT count(*) FROM kept")
        self.assertEqual(first.stop(), 0)

    def test_empty_replica_is_a_first_boot(self):
        first = self.container(new_volume(), self.replica_env()).start()
        first.wait_answering("SELECT 1")
        self.assertTrue(any("empty" in r.get("msg", "") for r in first.log_records()), first.logs())

    def test_unreachable_replica_stops_the_container(self):
        env = self.replica_env()
        query = urllib.parse.urlencode({"endpoint": f"http://127.0.0.1:{free_port()}", "region": self.s3.region})
        env["MONOLITE_REPLICA"] = f"s3://{self.s3.bucket}/ct/unreachable?{query}"
        # A store that is down is retried (2 minutes by default), then the container stops.
        env["MONOLITE_REPLICA_RETRY_TIMEOUT"] = "5s"
        container = self.assert_fails_to_boot(env)
        self.assertIn("retrying after attempt", container.logs())

    def test_wrong_secret_stops_the_container(self):
        self.assert_fails_to_boot(self.replica_env(secret="not-the-secret"))

    def assert_fails_to_boot(self, env):
        volume = new_volume()
        container = self.container(volume, env).start()
        code = container.wait_exit()
        self.assertNotEqual(code, 0, container.logs())
        errors = [r for r in container.log_records() if r.get("level") == "error"]
        self.assertTrue(errors, container.logs())
        self.assertNotIn("app.db", volume_files(volume), "an empty database was created instead")
        return container

    def test_replica_over_tls(self):
        # The statically linked OpenSSL checks the store's certificate: against the image's CA
        # bundle (SSL_CERT_FILE) by default, against a mounted CA when SSL_CERT_FILE names it.
        s3 = MotoServer(tls=True)
        s3.start()
        self.addCleanup(s3.stop)
        env = {"MONOLITE_REPLICA": s3.url("ct/tls"), **s3.env(), "MONOLITE_INSECURE_NO_AUTH": "true"}
        env.pop("SSL_CERT_FILE")
        refused = self.assert_fails_to_boot(env)  # the test CA is not in the image's bundle
        self.assertIn("certificate verify failed", refused.logs())

        env["SSL_CERT_FILE"] = "/etc/monolite/ca.pem"
        container = self.container(new_volume(), env, [(s3.ca_file, "/etc/monolite/ca.pem")]).start()
        container.wait_answering("SELECT 1")
        client = container.client()
        self.assertEqual(client.execute("CREATE TABLE t(x)").status, 200)
        client.close()
        self.assertEqual(container.stop(), 0, container.logs())
        self.assertTrue(s3.keys("ct/tls/"), container.logs())

    def test_serving_beyond_loopback_needs_auth(self):
        container = self.container(new_volume(), {"MONOLITE_LISTEN": "0.0.0.0:1"}).start()
        self.assertEqual(container.wait_exit(), 2, container.logs())
        self.assertIn("MONOLITE_AUTH", container.logs())

    def test_tokens_file(self):
        token = secrets.token_hex(16)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "auth.yaml")
            with open(path, "w", encoding="utf-8") as out:
                out.write("tokens:\n  - name: ct\n    sha256: "
                          f"{hashlib.sha256(token.encode()).hexdigest()}\n    role: read\n")
            os.chmod(path, 0o644)
            env = {"MONOLITE_AUTH": "/etc/monolite/auth.yaml"}
            container = self.container(new_volume(), env, [(path, "/etc/monolite/auth.yaml")]).start()
            wait_until(lambda: container.query("SELECT 1") is not None, READY_TIMEOUT_S)
            self.assertEqual(container.query("SELECT 1").status, 401)
            self.assertEqual(container.query("SELECT 1", {"Authorization": f"Bearer {token}"}).status, 200)
            self.assertEqual(container.stop(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
