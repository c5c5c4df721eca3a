"""Where an S3 replica's keys come from besides AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY: the shared
credentials file (AWS_SHARED_CREDENTIALS_FILE, AWS_PROFILE) and container credentials
(AWS_CONTAINER_CREDENTIALS_FULL_URI, refreshed before they expire), against moto with signature
checks, through the test-only store_probe."""

import datetime
import http.server
import json
import os
import tempfile
import threading
import unittest

from moto import HOST
from test_s3_store import StoreProbeCase


def rfc3339_in(seconds):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class CredentialsEndpoint:
    """A container credentials endpoint on a free loopback port: answers GET /creds with the
    given keys when the Authorization header is right, and counts the requests."""

    def __init__(self, key_id, secret, token, lifetime_s):
        self.hits = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits += 1
                if self.path != "/creds" or self.headers.get("Authorization") != token:
                    self.send_response(403)
                    self.end_headers()
                    return
                body = json.dumps({"AccessKeyId": key_id, "SecretAccessKey": secret, "Token": "",
                                   "Expiration": rfc3339_in(lifetime_s)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer((HOST, 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def uri(self):
        return f"http://{HOST}:{self.server.server_address[1]}/creds"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class CredentialSourcesTest(StoreProbeCase):
    def env_without_keys(self, **extra):
        env = {k: v for k, v in self.s3.env().items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        env["HOME"] = self.home
        env.update(extra)
        return env

    def setUp(self):
        super().setUp()
        home = tempfile.TemporaryDirectory(prefix="monolite-creds-")
        self.addCleanup(home.cleanup)
        self.home = home.name

    def write_credentials(self, text, path=None):
        path = path or os.path.join(self.home, "credentials")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_shared_file_with_a_profile(self):
        path = self.write_credentials(
            f"[default]\naws_access_key_id = AKIDNOTTHIS\naws_secret_access_key = wrong\n\n"
            f"[monolite]\naws_access_key_id = {self.s3.access_key_id}\n"
            f"aws_secret_access_key = {self.s3.secret_access_key}\n")
        env = self.env_without_keys(AWS_SHARED_CREDENTIALS_FILE=path, AWS_PROFILE="monolite")
        self.assert_ok(self.probe("parallel", "2", "3", "shared", env=env))
        denied = self.assert_fails(self.probe("list", env=self.env_without_keys(AWS_SHARED_CREDENTIALS_FILE=path)),
                                   "denied")
        self.assertNotIn("wrong", denied)
        message = self.assert_fails(self.probe("list", env=self.env_without_keys(
            AWS_SHARED_CREDENTIALS_FILE=path, AWS_PROFILE="staging")), "bad_url")
        self.assertIn("[staging]", message)

    def test_default_file_in_home(self):
        os.makedirs(os.path.join(self.home, ".aws"))
        self.write_credentials(f"[default]\naws_access_key_id={self.s3.access_key_id}\n"
                               f"aws_secret_access_key={self.s3.secret_access_key}\n",
                               os.path.join(self.home, ".aws", "credentials"))
        self.assert_ok(self.probe("list", env=self.env_without_keys()))

    def test_container_credentials_are_cached_until_near_expiry(self):
        for lifetime_s, expect_refetch in ((3600, False), (60, True)):
            endpoint = CredentialsEndpoint(self.s3.access_key_id, self.s3.secret_access_key, "Bearer t0k", lifetime_s)
            self.addCleanup(endpoint.stop)
            env = self.env_without_keys(AWS_CONTAINER_CREDENTIALS_FULL_URI=endpoint.uri(),
                                        AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer t0k")
            self.assert_ok(self.probe("parallel", "2", "3", f"container{lifetime_s}", env=env))
            if expect_refetch:
                self.assertGreater(endpoint.hits, 1, "keys expiring within 5 minutes were not fetched again")
            else:
                self.assertEqual(endpoint.hits, 1, "keys valid for an hour were fetched more than once")

    def test_container_endpoint_refusing(self):
        endpoint = CredentialsEndpoint(self.s3.access_key_id, self.s3.secret_access_key, "Bearer right", 3600)
        self.addCleanup(endpoint.stop)
        env = self.env_without_keys(AWS_CONTAINER_CREDENTIALS_FULL_URI=endpoint.uri(),
                                    AWS_CONTAINER_AUTHORIZATION_TOKEN="Bearer wrong")
        message = self.assert_fails(self.probe("list", env=env), "denied")
        self.assertIn("container credentials", message)

    def test_no_source_at_all(self):
        message = self.assert_fails(self.probe("list", env=self.env_without_keys()), "bad_url")
        self.assertIn("AWS_SHARED_CREDENTIALS_FILE", message)


if __name__ == "__main__":
    unittest.main()
