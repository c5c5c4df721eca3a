"""A private S3-compatible store for tests: moto_server with signature checking.

    with MotoServer() as s3:
        url = s3.url("replica/a")            # s3://BUCKET/replica/a?endpoint=...&region=...
        env = {**os.environ, **s3.env()}     # AWS_* credentials for a child process
        s3.client().put_object(...)          # boto3, signed with the same key
        s3.keys("replica/a/")                # every key under a prefix, sorted

moto accepts unsigned requests unless INITIAL_NO_AUTH_ACTION_COUNT is set; then only that many
requests go through unchecked. We spend those on creating an IAM user, its access key, an allow
policy and the attachment, so every later request must carry a valid SigV4 signature of that key
(a wrong secret gets 403 SignatureDoesNotMatch). The server binds 127.0.0.1 on a free port, logs
to a temporary file, and is stopped by its PID. Uses only the standard library, boto3 and (for
tls=True) the openssl command.

One correction is applied to the server (see _SERVE): moto 5.2 recomputes a signature over
werkzeug's `request.url`, which is an IRI: percent-escapes that decode to reserved or non-ASCII
characters come back decoded (`prefix=a%2F` becomes `prefix=a/`, `%24` becomes `$`, UTF-8 is
unquoted). Correctly signed requests for such keys or list prefixes then fail with
SignatureDoesNotMatch, from boto3 and the aws CLI as much as from monolite. The launcher hands the
signature check the request target exactly as it was sent; everything else, including the check
itself (botocore's S3SigV4Auth with the user's secret), is moto's own.

NOTE: this file is named like the moto package. A test module that imports it (`from moto import
MotoServer`) cannot also import the real moto package in the same process; it does not need to.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

import boto3
from botocore.config import Config

HOST = "127.0.0.1"
TLS_HOST = "localhost"  # the name in the test certificate (not the address: that lets tests see a mismatch)
START_TIMEOUT_S = 30.0
START_ATTEMPTS = 3
STOP_TIMEOUT_S = 10.0
UNAUTHENTICATED_CALLS = 4  # exactly the IAM calls in _create_user_key()
ALLOW_POLICY = {
    "Version": "2012-10-17",
    # s3 for the store; iam and sts so that session credentials can be made (assume_role).
    "Statement": [{"Effect": "Allow", "Action": ["s3:*", "iam:*", "sts:*"], "Resource": "*"}],
}
ROLE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
}

# Runs moto_server's main() with the signature check fed the raw request target (module doc).
# Executed with `python3 -c` from a temporary directory, so this file (also named moto) is not
# on sys.path and `import moto` finds the real package.
_SERVE = """
import sys
from urllib.parse import urlsplit, urlunsplit
from moto.core.authorization import ActionAuthenticatorMixin
from moto.server import main

_check = ActionAuthenticatorMixin._authenticate_and_authorize_action

def _check_raw_target(self, *args, **kwargs):
    environ = getattr(getattr(self, "request", None), "environ", None) or {}
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if not raw or not hasattr(self, "uri"):
        return _check(self, *args, **kwargs)
    sent = urlsplit(raw)
    decoded, self.uri = self.uri, urlunsplit(urlsplit(self.uri)[:2] + (sent.path, sent.query, ""))
    try:
        return _check(self, *args, **kwargs)
    finally:
        self.uri = decoded

ActionAuthenticatorMixin._authenticate_and_authorize_action = _check_raw_target
sys.exit(main(sys.argv[1:]))
"""


def free_port():
    """A loopback port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _accepts_connections(port):
    # A bare TCP connect: an HTTP probe would be an S3 call and use up an unauthenticated one.
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_test_certificates(directory):
    """A throw-away CA (ca.pem) and a certificate for `localhost` only (server.pem, server.key)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=monolite test CA",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
             cwd=directory)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", "server.key", "-out", "server.csr", "-subj", f"/CN={TLS_HOST}", cwd=directory)
    with open(os.path.join(directory, "server.ext"), "w", encoding="ascii") as ext:
        ext.write(f"subjectAltName=DNS:{TLS_HOST}\nextendedKeyUsage=serverAuth\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "server.pem", "-days", "2", "-extfile", "server.ext", cwd=directory)


class LoggedServer:
    """What the S3 test servers share: one bucket in one region, a process started by start()
    and stopped by stop() (also as a context manager), and a work directory with the server's
    log and certificates. Subclasses name `LOG_NAME` and set `self._workdir`."""

    LOG_NAME = "server.log"

    def __init__(self, bucket, region, tls):
        self.bucket = bucket
        self.region = region
        self.tls = tls
        self.port = None
        self._process = None
        self._workdir = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def endpoint(self):
        return f"https://{TLS_HOST}:{self.port}" if self.tls else f"http://{HOST}:{self.port}"

    @property
    def ca_file(self):
        """The test CA's certificate (tls=True only)."""
        return self.cert_path("ca.pem") if self.tls else None

    @property
    def log_path(self):
        return os.path.join(self._workdir, self.LOG_NAME)

    def cert_path(self, name):
        return os.path.join(self._workdir, name)

    def log_text(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return log.read()
        except OSError:
            return ""

    def log_tail(self, lines=40):
        return "".join(self.log_text().splitlines(keepends=True)[-lines:])


class MotoServer(LoggedServer):
    """One moto_server process with one bucket and one IAM access key (see the module doc).

    tls=True serves HTTPS at https://localhost:PORT with a certificate from a throw-away CA; env()
    then also sets SSL_CERT_FILE to that CA, which OpenSSL's default verify paths honour."""

    LOG_NAME = "moto.log"

    def __init__(self, bucket="monolite-test", region="us-east-1", tls=False):
        super().__init__(bucket, region, tls)
        self.access_key_id = None
        self.secret_access_key = None
        self._session = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout=START_TIMEOUT_S):
        """Starts the server, creates the access key and the bucket. Raises on failure."""
        self._workdir = tempfile.mkdtemp(prefix="monolite-moto-")
        try:
            if self.tls:
                make_test_certificates(self._workdir)
            self._start_process(timeout)
            self._create_user_key()
            self.client().create_bucket(Bucket=self.bucket)
        except Exception:
            self.stop()
            raise

    def _start_process(self, timeout):
        # The free port can be taken between free_port() and moto's bind: then try another one.
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            args = ["-H", HOST, "-p", str(self.port)]
            if self.tls:
                args += ["-s", "-c", self.cert_path("server.pem"), "-k", self.cert_path("server.key")]
            env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(UNAUTHENTICATED_CALLS)}
            with open(self.log_path, "ab") as log:
                self._process = subprocess.Popen(
                    [sys.executable, "-c", _SERVE, *args], env=env, cwd=self._workdir,
                    stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_listening(timeout):
                return
        raise RuntimeError(f"moto_server did not start:\n{self.log_tail()}")

    def stop(self):
        """Stops the process (by PID) and removes its files. Safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(STOP_TIMEOUT_S)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None

    def _wait_listening(self, timeout):
        """True once the port accepts connections; False when the process exited first."""
        deadline = time.monotonic() + timeout
        while not _accepts_connections(self.port):
            if self._process.poll() is not None:
                return False
            if time.monotonic() >= deadline:
                raise RuntimeError(f"moto_server did not listen within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)
        return True

    def _create_user_key(self):
        iam = self._raw_client("iam", "unauthenticated", "unauthenticated")
        iam.create_user(UserName="monolite")
        key = iam.create_access_key(UserName="monolite")["AccessKey"]
        policy = iam.create_policy(PolicyName="monolite-allow", PolicyDocument=json.dumps(ALLOW_POLICY))
        iam.attach_user_policy(UserName="monolite", PolicyArn=policy["Policy"]["Arn"])
        self.access_key_id = key["AccessKeyId"]
        self.secret_access_key = key["SecretAccessKey"]

    # -- what tests use ----------------------------------------------------------------------

    def url(self, prefix="", bucket=None, **params):
        """The replica URL s3://BUCKET/PREFIX?endpoint=…&region=… (+ extra query parameters)."""
        query = {"endpoint": self.endpoint, "region": self.region, **params}
        return f"s3://{bucket or self.bucket}/{prefix}?{urllib.parse.urlencode(query)}"

    def env(self, secret=None):
        """AWS_* variables for a child process (merge into its environment); `secret` overrides
        the secret key, to test a wrong one. AWS_SESSION_TOKEN is set empty so that an inherited
        one cannot leak in. With tls=True, SSL_CERT_FILE names the test CA."""
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

    def session_env(self):
        """Like env(), with temporary credentials (sts:AssumeRole) and their AWS_SESSION_TOKEN.
        Made once per server; the role may do what the user may."""
        if self._session is None:
            iam = self.client("iam")
            role = iam.create_role(RoleName="monolite-session",
                                   AssumeRolePolicyDocument=json.dumps(ROLE_TRUST))["Role"]
            policy = iam.create_policy(PolicyName="monolite-session-allow",
                                       PolicyDocument=json.dumps(ALLOW_POLICY))
            iam.attach_role_policy(RoleName="monolite-session", PolicyArn=policy["Policy"]["Arn"])
            creds = self.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="test")["Credentials"]
            self._session = {**self.env(),
                             "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
                             "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
                             "AWS_SESSION_TOKEN": creds["SessionToken"]}
        return dict(self._session)

    def client(self, service="s3"):
        """A boto3 client signed with the server's access key."""
        return self._raw_client(service, self.access_key_id, self.secret_access_key)

    def keys(self, prefix=""):
        """Every key in the bucket that starts with `prefix`, sorted."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
        return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))

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

    def _raw_client(self, service, key_id, secret):
        config = Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"},
                        connect_timeout=10, read_timeout=60)
        return boto3.session.Session().client(
            service, endpoint_url=self.endpoint, region_name=self.region, verify=self.ca_file or True,
            aws_access_key_id=key_id, aws_secret_access_key=secret, config=config)
