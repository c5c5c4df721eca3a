"""The S3 store and replication against s3rver (s3rver.py, npm package pinned in test/s3rver/), a
second S3 implementation next to moto, so that our requests are not tuned to one server's quirks.

- the store tests of test_s3_store.py (S3StoreTests, S3StoreTlsTests), plain and over TLS;
- `monolite serve --replica` to s3rver, then `monolite restore` from it.

s3rver 3.7 does not verify SigV4 signatures (see s3rver.py): that property — a wrong secret gets
403 SignatureDoesNotMatch and writes nothing — is verified against moto only
(test_s3_store.S3StoreTest.test_wrong_secret_is_denied_and_writes_nothing,
test_replication_s3.S3DrillTest.test_wrong_secret_fails_loudly). s3rver has no STS either, so
session tokens are tested against moto only (S3StoreTest.test_session_token_is_passed_through).
"""

import hashlib
import os
import unittest

import test_s3_store
from harness import db_file_integrity, db_file_rows
from replica_harness import (SEGMENT_KEY_RE, SNAPSHOT_KEY_RE, generations, restore,
                             wait_caught_up)
from s3rver import S3rverServer
from test_replication_s3 import S3TestCase


class S3rverStoreTest(test_s3_store.S3StoreTests, test_s3_store.StoreProbeCase):
    server_class = S3rverServer

    def open_uploads(self):
        # s3rver does not implement ListMultipartUploads (GET ?uploads is NotImplemented).
        return self.s3.open_uploads()

    def assert_multipart_etag(self, etag, data, parts):
        # s3rver's ETag of a multipart object is the MD5 of the whole object, not S3's
        # MD5-of-part-MD5s with a "-N" suffix; the part count is checked from the request log.
        self.assertEqual(etag, f'"{hashlib.md5(data).hexdigest()}"')

    def test_wrong_secret_is_accepted_by_s3rver(self):
        # Pins what the module doc relies on: s3rver does not compute SigV4 signatures, so a wrong
        # secret goes through. If this fails, s3rver started checking: run
        # test_wrong_secret_is_denied_and_writes_nothing against it too (move it to S3StoreTests).
        self.assert_ok(self.put("k", b"data", env=self.s3.env(secret="wrong-secret-Zq8rT2")))
        self.assertEqual(self.s3.keys(self.prefix + "/"), [f"{self.prefix}/k"])
        listed = self.s3.client(secret="wrong-secret-Zq8rT2").list_objects_v2(Bucket=self.s3.bucket)
        self.assertEqual(listed["ResponseMetadata"]["HTTPStatusCode"], 200)


class S3rverStoreTlsTest(test_s3_store.S3StoreTlsTests, test_s3_store.StoreProbeCase):
    server_class = S3rverServer


ITEMS_SCHEMA = ("CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, blob BLOB)",
                "CREATE INDEX items_by_name ON items(name)")
BIG_ROWS = 20  # of 1 MiB random bytes each: the snapshot after them is above the multipart threshold (16 MiB)


class S3rverReplicationTest(S3TestCase):
    SERVER = S3rverServer

    def write_rows(self, http, first, count):
        for row in range(first, first + count):
            self.execute_ok(http, "INSERT INTO items(id, name, score) VALUES (?, ?, ?)",
                            [row, f"item-{row}-\u00fc\u65e5", row / 7])

    def test_serve_then_restore_from_s3rver(self):
        server = self.start_replicated(self.db_path, self.url, workdir=self.workdir, env=self.env)
        http = self.client(server)
        for sql in ITEMS_SCHEMA:
            self.execute_ok(http, sql)
        self.write_rows(http, 1, 200)
        for row in range(1, BIG_ROWS + 1):
            self.execute_ok(http, "UPDATE items SET blob = randomblob(1048576) WHERE id = ?", [row])
        self.execute_ok(http, "DELETE FROM items WHERE id % 10 = 0")
        self.assertTrue(wait_caught_up(http), f"the replica did not catch up:\n{server.log_tail()}")
        log_before = len(self.s3.log_text())
        self.assertEqual(http.request("POST", "/admin/snapshot").status, 202)
        self.write_rows(http, 1000, 50)  # WAL after the second snapshot
        self.execute_ok(http, "UPDATE items SET score = -score WHERE id > 1020")
        self.assertTrue(wait_caught_up(http), f"the replica did not catch up:\n{server.log_tail()}")
        self.assertEqual(server.stop(), 0, server.log_tail())

        keys = [key[len(self.prefix) + 1:] for key in self.s3.keys(self.prefix + "/")]
        self.assertEqual([k for k in keys if not (SNAPSHOT_KEY_RE.match(k) or SEGMENT_KEY_RE.match(k))], [])
        self.assertEqual(len([k for k in keys if SNAPSHOT_KEY_RE.match(k)]), 2, keys)
        parts = [line for line in self.s3.log_text()[log_before:].splitlines() if "partNumber=" in line]
        self.assertGreaterEqual(len(parts), 2, "the second snapshot was not uploaded in parts")
        self.assertEqual(self.s3.open_uploads(), [])
        done, gens = generations(self.url, env=self.env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(len(gens), 1, done.stdout)

        restored = os.path.join(self.workdir, "restored.db")
        done = restore(restored, self.url, env=self.env)
        self.assertEqual(done.returncode, 0, f"restore failed:\n{done.stderr}")
        self.assertEqual(db_file_integrity(restored), ["ok"])
        every_row = "SELECT id, name, score, hex(blob) FROM items ORDER BY id"
        source_rows = db_file_rows(self.db_path, every_row)
        self.assertEqual(len(source_rows), 180 + 50)
        self.assertEqual(db_file_rows(restored, every_row), source_rows)
        schema = "SELECT type, name, sql FROM sqlite_schema ORDER BY name"
        self.assertEqual(db_file_rows(restored, schema), db_file_rows(self.db_path, schema))

    def test_prefix_with_a_plus_sign_restores(self):
        # The listing of a prefix holding '+' must not read it as a space (s3rver returns raw keys).
        url = self.s3.url(f"db+{self.prefix}")
        server = self.start_replicated(self.db_path, url, workdir=self.workdir, env=self.env)
        http = self.client(server)
        self.execute_ok(http, ITEMS_SCHEMA[0])
        self.write_rows(http, 1, 10)
        self.assertTrue(wait_caught_up(http), f"the replica did not catch up:\n{server.log_tail()}")
        self.assertEqual(server.stop(), 0, server.log_tail())
        restored = os.path.join(self.workdir, "restored.db")
        done = restore(restored, url, env=self.env)
        self.assertEqual(done.returncode, 0, f"restore failed:\n{done.stderr}")
        every_row = "SELECT id, name, score FROM items ORDER BY id"
        self.assertEqual(db_file_rows(restored, every_row), db_file_rows(self.db_path, every_row))


if __name__ == "__main__":
    unittest.main()
