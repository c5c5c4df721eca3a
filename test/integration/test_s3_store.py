"""The S3 replica store (replica/s3/) through the test-only `store_probe` executable (STORE_PROBE_BIN).

- against moto_server with SigV4 signature checking (moto.py), plain and TLS; what landed in the
  bucket is checked independently, with boto3 and the aws CLI; the same tests run against s3rver
  (test_s3rver.py), a second S3 implementation;
- against endpoints that refuse, never accept or never answer (deadlines);
- against a small keep-alive server, to see pooled connections reused (moto closes each one).
"""

import hashlib
import http.server
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from moto import HOST, TLS_HOST, MotoServer, free_port, make_test_certificates

DEFAULT_PROBE = "/work/main/build/release/test/store_probe"
PROBE_TIMEOUT_S = 120.0
BINARY = bytes(range(256))


def probe_path():
    return os.environ.get("STORE_PROBE_BIN", DEFAULT_PROBE)


def child_env(extra):
    """The test's environment without AWS_* or TLS settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "SSL_CERT_FILE"}
    env.update(extra)
    return env


class StoreProbeCase(unittest.TestCase):
    """Helpers: run store_probe against the class's S3 server (moto unless server_class says otherwise)."""

    s3 = None  # set by setUpClass: a server_class
    server_class = MotoServer  # or s3rver.S3rverServer (test_s3rver.py): same interface

    def setUp(self):
        self.prefix = f"t/{self._testMethodName}"

    def probe(self, *args, url=None, env=None, timeout=PROBE_TIMEOUT_S):
        """Runs `store_probe URL ARGS`; returns the CompletedProcess (stdout bytes, stderr text)."""
        url = url or self.s3.url(self.prefix)
        process = subprocess.run([probe_path(), url, *args], env=child_env(env or self.s3.env()),
                                 stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
        process.stderr = process.stderr.decode("utf-8", "replace")
        return process

    def assert_ok(self, process):
        self.assertEqual(process.returncode, 0, f"store_probe failed: {process.stderr}")
        return process.stdout

    def assert_fails(self, process, kind):
        """The probe failed with a store_error of `kind`; returns its message."""
        self.assertEqual(process.returncode, 1, f"stdout={process.stdout[:200]!r} stderr={process.stderr}")
        self.assertTrue(process.stderr.startswith(f"store_probe: {kind}: "), process.stderr)
        return process.stderr

    def put(self, key, data, **kwargs):
        path = os.path.join(self.workdir, "body")
        with open(path, "wb") as body:
            body.write(data)
        return self.probe("put", key, path, **kwargs)

    def listed(self, *args, **kwargs):
        """`store_probe list` as [(key, size)]."""
        lines = self.assert_ok(self.probe("list", *args, **kwargs)).decode("utf-8").splitlines()
        return [(key, int(size)) for key, size in (line.rsplit("\t", 1) for line in lines)]

    def put_with_boto3(self, keys, data=b"x"):
        client = self.s3.client()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda key: client.put_object(Bucket=self.s3.bucket, Key=key, Body=data), keys))

    @classmethod
    def setUpClass(cls):
        cls._tempdir = tempfile.TemporaryDirectory(prefix="monolite-s3-test-")
        cls.workdir = cls._tempdir.name
        cls.s3 = cls.server_class(**cls.server_options())
        cls.s3.start()

    @classmethod
    def tearDownClass(cls):
        cls.s3.stop()
        cls._tempdir.cleanup()

    @classmethod
    def server_options(cls):
        return {}


class S3StoreTests:
    """The store's behaviour against any S3 server: mixed into one TestCase per server (S3StoreTest
    here, moto; test_s3rver.py, s3rver). What differs between servers goes through the hooks
    open_uploads() and assert_multipart_etag(); tests that need signature checking or STS live in
    S3StoreTest only."""

    def test_round_trip_binary_bytes_and_keys_needing_encoding(self):
        keys = ["plain.bin", "dir/with space/a+b.bin", "odd/$&=;@,()'!*~%.bin", "utf8/\u00fc\u00df/\u65e5\u672c.bin",
                "query/?#[].bin", "empty.bin"]
        objects = {key: (b"" if key == "empty.bin" else BINARY * 40 + key.encode()) for key in keys}
        for key, data in objects.items():
            self.assert_ok(self.put(key, data))
        for key, data in objects.items():
            self.assertEqual(self.assert_ok(self.probe("get", key)), data, key)
        # Independently: the keys are exactly these, under the prefix, and boto3 reads the same bytes.
        self.assertEqual(self.s3.keys(self.prefix + "/"), sorted(f"{self.prefix}/{key}" for key in keys))
        body = self.s3.client().get_object(Bucket=self.s3.bucket, Key=f"{self.prefix}/{keys[3]}")["Body"].read()
        self.assertEqual(body, objects[keys[3]])
        self.assertEqual(self.listed(), sorted((key, len(data)) for key, data in objects.items()))

    def test_listed_keys_are_decoded_only_when_the_reply_is_url_encoded(self):
        # We ask for encoding-type=url; a reply without <EncodingType>url</EncodingType> (s3rver
        # ignores the parameter) carries raw keys, where '+' and '%41' are themselves.
        keys = ["plus+sign.bin", "percent%41.bin", "space here.bin"]
        self.put_with_boto3([f"{self.prefix}/{key}" for key in keys])
        self.assertEqual(self.listed(), sorted((key, 1) for key in keys))

    def test_aws_cli_sees_the_objects_under_the_prefix(self):
        self.assert_ok(self.put("cli/one", b"1"))
        self.assert_ok(self.put("cli/two", b"22"))
        ls = subprocess.run(["aws", "--endpoint-url", self.s3.endpoint, "s3", "ls", "--recursive",
                             f"s3://{self.s3.bucket}/{self.prefix}/"],
                            env=self.s3.cli_env(), capture_output=True, text=True, timeout=60)
        self.assertEqual(ls.returncode, 0, ls.stderr)
        listed = sorted(line.split()[-1] for line in ls.stdout.splitlines())
        self.assertEqual(listed, [f"{self.prefix}/cli/one", f"{self.prefix}/cli/two"])

    def test_overwrite_replaces_the_object(self):
        self.assert_ok(self.put("k", b"first"))
        self.assert_ok(self.put("k", b"second"))
        self.assertEqual(self.assert_ok(self.probe("get", "k")), b"second")

    def test_large_object_is_uploaded_in_parts(self):
        data = os.urandom(40 << 20)
        log_before = len(self.s3.log_text())
        self.assert_ok(self.put("big.bin", data))
        logged = self.s3.log_text()[log_before:].splitlines()
        parts = [line for line in logged if "PUT" in line and "partNumber=" in line]
        self.assertEqual(len(parts), 5, "\n".join(parts))
        head = self.s3.client().head_object(Bucket=self.s3.bucket, Key=f"{self.prefix}/big.bin")
        self.assertEqual(head["ContentLength"], len(data))
        self.assert_multipart_etag(head["ETag"], data, 5)
        back = self.assert_ok(self.probe("get", "big.bin"))
        self.assertEqual(hashlib.sha256(back).hexdigest(), hashlib.sha256(data).hexdigest())
        self.assertEqual(self.open_uploads(), [], "an upload was left open")

    def file_with(self, data):
        path = os.path.join(self.workdir, f"body-{len(data)}")
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_streamed_put_sends_parts_as_they_fill(self):
        data = os.urandom(20 << 20)
        log_before = len(self.s3.log_text())
        self.assert_ok(self.probe("stream-put", "streamed.bin", self.file_with(data), str(1 << 20)))
        logged = self.s3.log_text()[log_before:].splitlines()
        parts = [line for line in logged if "PUT" in line and "partNumber=" in line]
        self.assertEqual(len(parts), 3, "\n".join(parts))  # 8 + 8 + 4 MiB
        back = self.assert_ok(self.probe("get", "streamed.bin"))
        self.assertEqual(hashlib.sha256(back).hexdigest(), hashlib.sha256(data).hexdigest())
        self.assertEqual(self.open_uploads(), [], "an upload was left open")

    def test_small_streamed_put_is_one_put(self):
        data = os.urandom(100_000)
        log_before = len(self.s3.log_text())
        self.assert_ok(self.probe("stream-put", "small.bin", self.file_with(data), "999"))
        logged = self.s3.log_text()[log_before:]
        self.assertNotIn("uploads", logged)
        self.assertNotIn("partNumber=", logged)
        self.assertEqual(self.assert_ok(self.probe("get", "small.bin")), data)

    def test_stream_get_from_an_offset_uses_a_range(self):
        data = os.urandom(3 << 20)
        self.assert_ok(self.put("ranged.bin", data))
        for offset in (0, 1, 1 << 20, len(data) - 1, len(data)):
            back = self.assert_ok(self.probe("stream-get", "ranged.bin", str(offset)))
            self.assertEqual(back, data[offset:], f"from byte {offset}")
        self.assert_fails(self.probe("stream-get", "no/such/key", "0"), "not_found")

    def test_list_follows_continuation_tokens(self):
        keys = [f"k{i:02d}" for i in range(25)]
        self.put_with_boto3([f"{self.prefix}/{key}" for key in keys], b"abc")
        # Neighbours that share the prefix's text but are not under it.
        self.put_with_boto3([f"{self.prefix}-other/k00", f"{self.prefix}x"])
        log_before = len(self.s3.log_text())
        self.assertEqual(self.listed(url=self.s3.url(self.prefix, max_keys=7)), [(key, 3) for key in keys])
        pages = [line for line in self.s3.log_text()[log_before:].splitlines() if "max-keys=7" in line]
        self.assertEqual(len(pages), 4, "\n".join(pages))
        self.assertEqual(sum("continuation-token=" in line for line in pages), 3)
        self.assertEqual([key for key, _ in self.listed("k1", url=self.s3.url(self.prefix, max_keys=3))],
                         [f"k1{i}" for i in range(10)])
        self.assertEqual(self.listed("nothing-here"), [])

    def test_remove_deletes_in_batches_of_1000(self):
        keys = [f"r{i:04d}" for i in range(1001)]
        self.put_with_boto3([f"{self.prefix}/{key}" for key in keys] + [f"{self.prefix}-keep/r0000"])
        log_before = len(self.s3.log_text())
        self.assert_ok(self.probe("remove", *keys, "never-existed"))
        batches = [line for line in self.s3.log_text()[log_before:].splitlines() if "POST" in line and "delete" in line]
        self.assertEqual(len(batches), 2, "\n".join(batches))
        self.assertEqual(self.s3.keys(self.prefix + "/"), [])
        self.assertEqual(self.s3.keys(self.prefix + "-keep/"), [f"{self.prefix}-keep/r0000"])

    def test_missing_key_is_not_found(self):
        message = self.assert_fails(self.probe("get", "no/such/key"), "not_found")
        self.assertIn("no/such/key", message)

    def test_unknown_access_key_is_denied(self):
        env = {**self.s3.env(), "AWS_ACCESS_KEY_ID": "AKIAUNKNOWNKEY000000"}
        message = self.assert_fails(self.probe("get", "k", env=env), "denied")
        self.assertIn("InvalidAccessKeyId", message)

    def test_missing_bucket_is_named_clearly(self):
        url = self.s3.url(self.prefix, bucket="no-such-bucket")
        for args in (("list",), ("get", "k")):
            message = self.assert_fails(self.probe(*args, url=url), "bad_url")
            self.assertIn("bucket 'no-such-bucket' does not exist", message)
            self.assertIn("NoSuchBucket", message)

    def test_missing_credentials_fail_at_open(self):
        env = {**self.s3.env(), "AWS_ACCESS_KEY_ID": ""}
        message = self.assert_fails(self.probe("list", env=env), "bad_url")
        self.assertIn("AWS_ACCESS_KEY_ID", message)

    def test_empty_prefix_puts_keys_at_the_bucket_root(self):
        self.s3.client().create_bucket(Bucket="monolite-root")
        url = self.s3.url("", bucket="monolite-root")
        self.assert_ok(self.put("top.bin", b"top", url=url))
        self.assert_ok(self.put("dir/inner.bin", b"inner", url=url))
        self.assertEqual(self.listed(url=url), [("dir/inner.bin", 5), ("top.bin", 3)])
        client = self.s3.client()
        self.assertEqual(client.get_object(Bucket="monolite-root", Key="top.bin")["Body"].read(), b"top")

    def test_many_threads_share_one_store(self):
        self.assert_ok(self.probe("parallel", "8", "10", "par"))
        self.assertEqual(len(self.s3.keys(self.prefix + "/par/")), 80)


class S3StoreTest(S3StoreTests, StoreProbeCase):
    """Against moto, which checks SigV4 signatures and has STS."""

    def open_uploads(self):
        return self.s3.client().list_multipart_uploads(Bucket=self.s3.bucket).get("Uploads", [])

    def assert_multipart_etag(self, etag, data, parts):
        self.assertTrue(etag.strip('"').endswith(f"-{parts}"), f"not a {parts}-part upload: {etag}")

    # Here only: s3rver 3.7 has no AbortMultipartUpload (it takes DELETE ?uploadId for a DeleteObject).
    def test_abandoned_streamed_put_leaves_no_object_and_no_upload(self):
        self.assert_ok(self.probe("abandon-put", "abandoned.bin", self.file_with(os.urandom(20 << 20))))
        self.assert_fails(self.probe("get", "abandoned.bin"), "not_found")
        self.assertEqual(self.open_uploads(), [], "the abandoned upload was not aborted")

    def test_wrong_secret_is_denied_and_writes_nothing(self):
        secret = "wrong-secret-Zq8rT2"
        message = self.assert_fails(self.put("k", b"data", env=self.s3.env(secret=secret)), "denied")
        self.assertIn("SignatureDoesNotMatch", message)
        self.assertIn("403", message)
        self.assertNotIn(secret, message)
        self.assertNotIn(self.s3.secret_access_key, message)
        self.assertEqual(self.s3.keys(self.prefix + "/"), [])
        self.assert_fails(self.probe("list", env=self.s3.env(secret=secret)), "denied")

    def test_session_token_is_passed_through(self):
        session = self.s3.session_env()
        self.assertTrue(session["AWS_SESSION_TOKEN"])
        self.assert_ok(self.put("k", b"with a session", env=session))
        self.assertEqual(self.assert_ok(self.probe("get", "k", env=session)), b"with a session")
        self.assertEqual(self.s3.keys(self.prefix + "/"), [f"{self.prefix}/k"])
        # The temporary key is refused without its token, or with another one.
        self.assert_fails(self.probe("get", "k", env={**session, "AWS_SESSION_TOKEN": ""}), "denied")
        self.assert_fails(self.probe("get", "k", env={**session, "AWS_SESSION_TOKEN": "FwoG-not-it"}), "denied")


class S3StoreFailureTest(unittest.TestCase):
    """Endpoints that do not answer: each call fails within its deadline, as unreachable."""

    env = child_env({"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"})

    def probe_at(self, port, **params):
        query = "&".join(f"{k}={v}" for k, v in params.items())
        url = f"s3://bucket/p?endpoint=http://{HOST}:{port}&{query}"
        start = time.monotonic()
        process = subprocess.run([probe_path(), url, "get", "k"], env=self.env, capture_output=True, text=True,
                                 timeout=PROBE_TIMEOUT_S)
        return process, time.monotonic() - start

    def assert_unreachable(self, process, words):
        self.assertEqual(process.returncode, 1, process.stderr)
        self.assertTrue(process.stderr.startswith("store_probe: unreachable: "), process.stderr)
        for word in words:
            self.assertIn(word, process.stderr)

    def test_refused_connection(self):
        process, took = self.probe_at(free_port())
        self.assert_unreachable(process, ["connect"])
        self.assertLess(took, 5)

    def test_connect_timeout(self):
        # A listener whose accept queue is full: further SYNs are dropped, connect() never completes.
        with socket.socket() as listener:
            listener.bind((HOST, 0))
            listener.listen(0)
            fillers = [socket.socket() for _ in range(3)]
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(listener.getsockname())
            time.sleep(0.2)
            process, took = self.probe_at(listener.getsockname()[1], connect_timeout_ms=1000)
            for filler in fillers:
                filler.close()
        self.assert_unreachable(process, ["connect"])
        self.assertLess(took, 5)

    def test_request_timeout(self):
        # Accepts and reads, never answers.
        with socket.socket() as listener:
            listener.bind((HOST, 0))
            listener.listen(8)
            held = []
            stop = threading.Event()

            def accept():
                listener.settimeout(0.1)
                while not stop.is_set():
                    try:
                        held.append(listener.accept()[0])
                    except OSError:
                        pass

            thread = threading.Thread(target=accept)
            thread.start()
            try:
                process, took = self.probe_at(listener.getsockname()[1], timeout_ms=1000)
            finally:
                stop.set()
                thread.join()
                for conn in held:
                    conn.close()
        self.assert_unreachable(process, ["receive", "timed out after 1000 ms"])
        self.assertGreaterEqual(took, 0.9)
        self.assertLess(took, 5)


class S3StoreTlsTests:
    """HTTPS: the certificate is checked against the trusted CAs and the endpoint's host name. Mixed
    into one TestCase per server, as S3StoreTests."""

    @classmethod
    def server_options(cls):
        return {"tls": True}

    def test_round_trip_over_tls(self):
        self.assert_ok(self.put("secure.bin", BINARY))
        self.assertEqual(self.assert_ok(self.probe("get", "secure.bin")), BINARY)
        self.assertEqual(self.s3.keys(self.prefix + "/"), [f"{self.prefix}/secure.bin"])

    def test_untrusted_certificate_is_refused(self):
        env = {k: v for k, v in self.s3.env().items() if k != "SSL_CERT_FILE"}
        message = self.assert_fails(self.probe("list", env=env), "other")  # refused: not retried
        self.assertIn("certificate verify failed", message)

    def test_certificate_for_another_name_is_refused(self):
        url = self.s3.url(self.prefix, endpoint=f"https://{HOST}:{self.s3.port}")  # cert says localhost
        message = self.assert_fails(self.probe("list", url=url), "other")
        self.assertIn("certificate verify failed", message)


class S3StoreTlsTest(S3StoreTlsTests, StoreProbeCase):
    pass


class KeepAliveServer:
    """An in-memory object server speaking HTTP/1.1 with keep-alive, over TCP or TLS, that counts
    connections. It stands in for moto where moto cannot help: werkzeug's development server
    answers every request with `Connection: close`. Signatures are not checked here."""

    def __init__(self, certificates=None):
        objects, connections = {}, []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                connections.append(self.client_address)
                super().setup()

            def log_message(self, *args):
                pass

            def reply(self, body=b""):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_PUT(self):
                objects[self.path] = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.reply()

            def do_GET(self):
                self.reply(objects.get(self.path, b""))

        self.connections = connections
        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.server.daemon_threads = True
        if certificates:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(os.path.join(certificates, "server.pem"), os.path.join(certificates, "server.key"))
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.endpoint = f"https://{TLS_HOST}:{self.port}" if certificates else f"http://{HOST}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever)
        self.thread.start()

    @property
    def port(self):
        return self.server.server_address[1]

    def stop(self):
        self.server.shutdown()
        self.thread.join()
        self.server.server_close()


class S3StoreKeepAliveTest(unittest.TestCase):
    """Requests reuse pooled connections, over TCP and over TLS."""

    def run_parallel(self, certificates=None):
        server = KeepAliveServer(certificates)
        try:
            env = {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"}
            if certificates:
                env["SSL_CERT_FILE"] = os.path.join(certificates, "ca.pem")
            args = [probe_path(), f"s3://bucket/p?endpoint={server.endpoint}", "parallel", "2", "10", "ka"]
            process = subprocess.run(args, env=child_env(env), capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
            self.assertEqual(process.returncode, 0, process.stderr)
            return len(server.connections)
        finally:
            server.stop()

    def test_plain_connections_are_reused(self):
        # 2 threads, 20 requests each (10 puts, 10 gets): one connection per thread.
        self.assertLessEqual(self.run_parallel(), 2)

    def test_tls_connections_are_reused(self):
        with tempfile.TemporaryDirectory(prefix="monolite-tls-") as certificates:
            make_test_certificates(certificates)
            self.assertLessEqual(self.run_parallel(certificates), 2)


if __name__ == "__main__":
    unittest.main()
