"""A second, independent S3 implementation for tests: s3rver (npm, pinned in test/s3rver/).

    with S3rverServer() as s3:                # same interface as moto.MotoServer where tests need it
        url = s3.url("replica/a")            # s3://BUCKET/replica/a?endpoint=...&region=...&force_path_style=true
        env = {**os.environ, **s3.env()}     # AWS_* credentials for a child process
        s3.client().put_object(...)          # boto3, signed with the same key
        s3.keys("replica/a/")                # every key under a prefix, sorted

test/s3rver/serve.js runs s3rver 3.7 on 127.0.0.1 on a port the kernel picks (no race for a free
port), with its data directory in a temporary folder, one bucket, and a per-server random access key
that replaces s3rver's built-in S3RVER/S3RVER. Each request is logged as `METHOD TARGET STATUS`.
The process is stopped by its PID. The locked npm packages are installed (`npm ci`) on first use;
a missing node or npm is an error, never a skip.

What s3rver 3.7 checks of a SigV4 request (lib/middleware/authentication.js): the Authorization
header's form (Credential, SignedHeaders, Signature), x-amz-content-sha256 present and well formed,
the access key id known (else 403 InvalidAccessKeyId), the clock within 15 minutes
(RequestTimeTooSkewed). It does NOT compute the signature: a wrong secret is accepted. Signature
correctness is therefore verified against moto only (moto.py); s3rver checks the rest of the S3
protocol: paths and key encoding, listing and continuation, multipart, batch delete, errors.
"""

import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import urllib.parse

import boto3
from botocore.config import Config

from moto import HOST, TLS_HOST, LoggedServer, make_test_certificates

PACKAGE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "s3rver"))
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
NPM_TIMEOUT_S = 600
# s3rver 3.7 encrypts list continuation tokens with DES, which OpenSSL 3 keeps in its legacy
# provider: without it every truncated listing is a 500 (ERR_OSSL_EVP_UNSUPPORTED).
NODE_FLAGS = ("--openssl-legacy-provider",)


def ensure_installed():
    """Runs `npm ci` in test/s3rver/ when node_modules is missing or older than the lock file.
    Raises (never skips) when node or npm is missing. Serialised by a lock: ctest runs modules in
    parallel, and two `npm ci` in one folder break each other."""
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"the s3rver tests need {tool} (Node.js 20 or newer) on PATH")
    with open(os.path.join(PACKAGE_DIR, "node_modules.lock"), "w", encoding="ascii") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installed = os.path.join(PACKAGE_DIR, "node_modules", ".package-lock.json")
        locked = os.path.join(PACKAGE_DIR, "package-lock.json")
        if os.path.exists(installed) and os.path.getmtime(installed) >= os.path.getmtime(locked):
            return
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=PACKAGE_DIR, capture_output=True,
                              text=True, timeout=NPM_TIMEOUT_S)
        if done.returncode != 0:
            raise RuntimeError(f"npm ci in {PACKAGE_DIR} failed:\n{done.stdout}\n{done.stderr}")


class S3rverServer(LoggedServer):
    """One s3rver process with one bucket and one access key (see the module doc).

    tls=True serves HTTPS at https://localhost:PORT with a certificate from a throw-away CA; env()
    then also sets SSL_CERT_FILE to that CA."""

    LOG_NAME = "s3rver.log"

    def __init__(self, bucket="monolite-test", region="us-east-1", tls=False):
        super().__init__(bucket, region, tls)
        self.access_key_id = "AKIA" + secrets.token_hex(8).upper()
        self.secret_access_key = secrets.token_urlsafe(30)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout=START_TIMEOUT_S):
        """Installs s3rver if needed, starts it with the bucket. Raises on failure."""
        ensure_installed()
        self._workdir = tempfile.mkdtemp(prefix="monolite-s3rver-")
        try:
            if self.tls:
                make_test_certificates(self._workdir)
            self._start_process(timeout)
        except Exception:
            self.stop()
            raise

    def _start_process(self, timeout):
        config = {"directory": self.data_directory, "bucket": self.bucket,
                  "accessKeyId": self.access_key_id, "secretAccessKey": self.secret_access_key}
        if self.tls:
            config.update(key=self.cert_path("server.key"), cert=self.cert_path("server.pem"))
        os.makedirs(self.data_directory)
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                ["node", *NODE_FLAGS, os.path.join(PACKAGE_DIR, "serve.js"), json.dumps(config)], cwd=PACKAGE_DIR,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        line = self._read_port_line(timeout)
        if not line:
            raise RuntimeError(f"s3rver did not start within {timeout} s:\n{self.log_tail()}")
        self.port = json.loads(line)["port"]

    def _read_port_line(self, timeout):
        """The line serve.js prints once it listens; empty when it exited or missed the deadline
        (then a timer has killed it: readline() itself has no timeout)."""
        timer = threading.Timer(timeout, self._process.kill)
        timer.start()
        try:
            return self._process.stdout.readline().decode("utf-8")
        finally:
            timer.cancel()

    def stop(self):
        """Stops the process (by PID) and removes its files. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(STOP_TIMEOUT_S)
            process.stdout.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    @property
    def data_directory(self):
        return os.path.join(self._workdir, "data")

    # -- what tests use ----------------------------------------------------------------------

    def url(self, prefix="", bucket=None, **params):
        """The replica URL s3://BUCKET/PREFIX?endpoint=…&region=…&force_path_style=true (+ extra
        query parameters)."""
        query = {"endpoint": self.endpoint, "region": self.region, "force_path_style": "true", **params}
        return f"s3://{bucket or self.bucket}/{prefix}?{urllib.parse.urlencode(query)}"

    def env(self, secret=None):
        """AWS_* variables for a child process; `secret` overrides the secret key (s3rver accepts
        any: see the module doc). With tls=True, SSL_CERT_FILE names the test CA."""
        env = {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": secret if secret is not None else self.secret_access_key,
            "AWS_SESSION_TOKEN": "",
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }
        if self.tls:
            env["SSL_CERT_FILE"] = self.ca_file
        return env

    def client(self, *, secret=None):
        """A boto3 S3 client signed with the server's access key (or with `secret`)."""
        config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                        connect_timeout=10, read_timeout=60)
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=self.region, verify=self.ca_file or True,
            aws_access_key_id=self.access_key_id, aws_secret_access_key=secret or self.secret_access_key,
            config=config)

    def keys(self, prefix=""):
        """Every key in the bucket that starts with `prefix`, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

    def open_uploads(self, bucket=None):
        """Multipart uploads begun and neither completed nor aborted: s3rver does not implement
        ListMultipartUploads, and keeps each open upload as a folder under BUCKET/._S3rver_uploads/."""
        folder = os.path.join(self.data_directory, bucket or self.bucket, "._S3rver_uploads")
        return sorted(os.listdir(folder)) if os.path.isdir(folder) else []

    def cli_env(self):
        """Environment for the `aws` command line against this server (no user config)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(self.env())
        del env["AWS_SESSION_TOKEN"]
        env["AWS_CONFIG_FILE"] = os.devnull
        env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
        if self.tls:
            env["AWS_CA_BUNDLE"] = self.ca_file
        return env
