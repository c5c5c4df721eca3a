"""Encrypted replicas: --replica-encryption-key-file and MONOLITE_REPLICA_ENCRYPTION_KEY.

What is stored is sealed (no plaintext in any object), restores need a key of the ring, a key
rotation starts a new generation, tampering is caught and named, and bad keys are usage errors."""

import hashlib
import os
import secrets
import time
import unittest

from harness import db_file_rows, run_cli
from replica_harness import (ReplicationTestCase, file_replica_keys, file_url, generations, parse_layout, restore,
                             rfc3339, wait_caught_up)

MARKER = "monolite-secret-marker-"
ROWS = 300
SCHEMA = "CREATE TABLE IF NOT EXISTS secrets (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"
SEALED_MAGIC = b"MLSEAL1\0"
NOT_IN_RING = "which is not among the given keys"


def key_id(hex_key):
    """The id the server names a key by: SHA-256 over a domain string and the key, 8 bytes."""
    return hashlib.sha256(b"monolite replica key id" + bytes.fromhex(hex_key)).digest()[:8].hex()


def rows_digest(db_path):
    """(row count, SHA-256 over every secrets row in id order) of a database file."""
    rows = db_file_rows(db_path, "SELECT id, body FROM secrets ORDER BY id")
    digest = hashlib.sha256()
    for row_id, body in rows:
        digest.update(f"{row_id}\t{body}\n".encode())
    return len(rows), digest.hexdigest()


class EncryptionTestCase(ReplicationTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = os.path.join(self.workdir, "app.db")
        self.replica_dir = os.path.join(self.workdir, "replica")
        self.url = file_url(self.replica_dir)
        self.key_a, self.key_b = secrets.token_hex(32), secrets.token_hex(32)
        self.file_a, self.file_b = self.key_file("a.key", self.key_a + "\n"), self.key_file("b.key", self.key_b)

    def key_file(self, name, text):
        path = os.path.join(self.workdir, name)
        with open(path, "w") as out:
            out.write(text)
        os.chmod(path, 0o600)
        return path

    def restore_rows(self, output, *extra, env=None):
        """Restores into `output` (it must succeed and pass integrity_check); its rows_digest."""
        done = restore(output, self.url, *extra, env=env)
        self.assertEqual(done.returncode, 0, f"restore failed:\n{done.stderr}")
        self.assertEqual(db_file_rows(output, "PRAGMA integrity_check"), [("ok",)])
        return rows_digest(output)

    def out(self, name):
        return os.path.join(self.workdir, "restored", name)

    def serve_and_write(self, first_id, *extra, env=None, new_generation=True):
        """A replicated server that writes ROWS marked rows from `first_id`, waits until the replica
        holds them, and stops (SIGTERM, exit 0). Returns the server (for its log)."""
        server = self.start_replicated(self.db_path, self.url, *extra, workdir=self.workdir, env=env)
        http = self.client(server)
        self.execute_ok(http, SCHEMA)
        for row_id in range(first_id, first_id + ROWS):
            self.execute_ok(http, "INSERT INTO secrets VALUES (?, ?)",
                            [row_id, MARKER + secrets.token_hex(24) + " " + "x" * 100])
        self.assertTrue(wait_caught_up(http, new_generation=new_generation), server.log_tail())
        self.assertEqual(server.stop(), 0, server.log_tail())
        return server

    def objects(self):
        """{key: bytes} of every object in the replica."""
        out = {}
        for key in file_replica_keys(self.replica_dir):
            with open(os.path.join(self.replica_dir, key), "rb") as f:
                out[key] = f.read()
        return out

    def objects_with_marker(self):
        return [k for k, data in self.objects().items() if MARKER.encode() in data]


class EncryptedReplicaTest(EncryptionTestCase):
    def test_a_plaintext_replica_shows_the_marker(self):
        # The control: without a key, the marker the encrypted test looks for is in the objects.
        self.serve_and_write(1)
        self.assertNotEqual(self.objects_with_marker(), [])

    def test_objects_are_sealed_and_restore_only_with_the_key(self):
        server = self.serve_and_write(1, "--replica-encryption-key-file", self.file_a)
        objects = self.objects()
        snapshots, segments, others = parse_layout(objects)
        self.assertEqual(others, [])
        self.assertGreater(len(segments), 0)
        self.assertEqual(self.objects_with_marker(), [])
        self.assertEqual([k for k, data in objects.items() if not data.startswith(SEALED_MAGIC)], [])
        log = server.log_text()
        self.assertNotIn(self.key_a, log)
        self.assertIn(key_id(self.key_a), log)  # the key id is named, the key never

        restored = self.out("with-key.db")
        self.restore_rows(restored, "--replica-encryption-key-file", self.file_a)
        self.assertEqual(rows_digest(restored), rows_digest(self.db_path))
        self.assertEqual(rows_digest(restored)[0], ROWS)

        done = self.assert_restore_fails(self.out("without-key.db"), self.url)
        self.assertIn(f": the replica is encrypted (key {key_id(self.key_a)}); give its key with "
                      "--replica-encryption-key-file or MONOLITE_REPLICA_ENCRYPTION_KEY", done.stderr)
        self.assertIn(snapshots[0].key, done.stderr)

        done = self.assert_restore_fails(self.out("other-key.db"), self.url, "--replica-encryption-key-file",
                                         self.file_b)
        self.assertIn(f"encrypted with key {key_id(self.key_a)}, {NOT_IN_RING}", done.stderr)

    def test_verify_opens_with_the_key_and_names_a_missing_one(self):
        self.serve_and_write(1, "--replica-encryption-key-file", self.file_a)
        base = ["verify", "--db", self.db_path, "--replica", self.url, "--wait", "60s"]
        done = run_cli(base + ["--replica-encryption-key-file", self.file_a], timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(done.stdout.startswith("ok:"), done.stdout)
        started = time.monotonic()
        done = run_cli(base + ["--replica-encryption-key-file", self.file_b], timeout=60)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn(f"encrypted with key {key_id(self.key_a)}, {NOT_IN_RING}", done.stderr)
        self.assertLess(time.monotonic() - started, 30, "verify waited for a replica it cannot open")

    def test_the_key_may_come_from_the_environment(self):
        env = {"MONOLITE_REPLICA_ENCRYPTION_KEY": self.key_a}
        self.serve_and_write(1, env=env)
        self.assertEqual(self.objects_with_marker(), [])
        from_env = self.out("env.db")
        self.restore_rows(from_env, env=env)
        self.assertEqual(rows_digest(from_env), rows_digest(self.db_path))
        from_file = self.out("file.db")  # the same key from a file opens the same objects
        self.restore_rows(from_file, "--replica-encryption-key-file", self.file_a)
        self.assertEqual(rows_digest(from_file), rows_digest(self.db_path))

    def test_a_tampered_segment_is_named(self):
        self.serve_and_write(1, "--replica-encryption-key-file", self.file_a)
        _, segments, _ = parse_layout(file_replica_keys(self.replica_dir))
        victim = segments[len(segments) // 2].key
        path = os.path.join(self.replica_dir, victim)
        with open(path, "r+b") as f:
            data = bytearray(f.read())
            data[len(data) // 2] ^= 0x01
            f.seek(0)
            f.write(data)
        done = self.assert_restore_fails(self.out("tampered.db"), self.url, "--replica-encryption-key-file",
                                         self.file_a)
        self.assertIn(f"{victim}: fails authentication (tampered, truncated or corrupted)", done.stderr)
        self.assertEqual(done.stderr.count(victim), 1, done.stderr)


class RotationTest(EncryptionTestCase):
    def generation_ids(self):
        done, ids = generations(self.url)
        self.assertEqual(done.returncode, 0, done.stderr)
        return ids

    def test_a_new_key_starts_a_new_generation_and_old_ones_stay_restorable(self):
        self.serve_and_write(1, "--replica-encryption-key-file", self.file_a)
        self.assertEqual(len(self.generation_ids()), 1)
        old_state = self.out("old-state.db")
        self.restore_rows(old_state, "--replica-encryption-key-file", self.file_a)
        in_old_generation = rfc3339(time.time())

        # Same database, WAL continuous: only the key change makes the generation end.
        server = self.serve_and_write(1 + ROWS, "--replica-encryption-key-file", self.file_b,
                                      "--replica-encryption-key-file", self.file_a)
        self.assertIn(f"sealed with key {key_id(self.key_a)}, new objects with key {key_id(self.key_b)}",
                      server.log_text())
        self.assertEqual(len(self.generation_ids()), 2)

        newest = self.out("newest.db")
        self.restore_rows(newest, "--replica-encryption-key-file", self.file_b,
                        "--replica-encryption-key-file", self.file_a)
        self.assertEqual(rows_digest(newest), rows_digest(self.db_path))
        self.assertEqual(rows_digest(newest)[0], 2 * ROWS)
        newest_b = self.out("newest-b.db")  # the new generation has a snapshot of its own, under B
        self.restore_rows(newest_b, "--replica-encryption-key-file", self.file_b)
        self.assertEqual(rows_digest(newest_b), rows_digest(self.db_path))

        done = self.assert_restore_fails(self.out("old-with-b.db"), self.url, "--timestamp", in_old_generation,
                                         "--replica-encryption-key-file", self.file_b)
        self.assertIn(f"encrypted with key {key_id(self.key_a)}, {NOT_IN_RING}", done.stderr)
        old_again = self.out("old-with-both.db")
        self.restore_rows(old_again, "--timestamp", in_old_generation,
                        "--replica-encryption-key-file", self.file_b, "--replica-encryption-key-file", self.file_a)
        self.assertEqual(rows_digest(old_again), rows_digest(old_state))

    def test_turning_encryption_on_or_off_starts_a_new_generation(self):
        self.serve_and_write(1)
        self.serve_and_write(1 + ROWS, "--replica-encryption-key-file", self.file_a)
        self.assertEqual(len(self.generation_ids()), 2)
        self.serve_and_write(1 + 2 * ROWS)
        self.assertEqual(len(self.generation_ids()), 3)
        newest = self.out("newest.db")
        self.restore_rows(newest)
        self.assertEqual(rows_digest(newest), rows_digest(self.db_path))


class KeyUsageTest(EncryptionTestCase):
    def assert_usage_error(self, args, expect, env=None):
        done = run_cli(args, env=env)
        self.assertEqual(done.returncode, 2, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}")
        self.assertIn(expect, done.stderr)
        return done

    def test_a_malformed_key_is_a_usage_error(self):
        bad = self.key_file("bad.key", "not a key\n")
        short = self.key_file("short.key", self.key_a[:40])
        commands = [["serve", "--db", self.db_path, "--replica", self.url],
                    ["restore", "-o", self.out("x.db"), "--replica", self.url],
                    ["verify", "--db", self.db_path, "--replica", self.url]]
        for command in commands:
            for path in (bad, short):
                done = self.assert_usage_error(
                    command + ["--replica-encryption-key-file", path],
                    f"--replica-encryption-key-file {path}: not a key: want 64 hex characters")
                self.assertNotIn(self.key_a[:40], done.stderr)
            self.assert_usage_error(command + ["--replica-encryption-key-file", os.path.join(self.workdir, "none")],
                                    "cannot read it")
            done = self.assert_usage_error(command, "MONOLITE_REPLICA_ENCRYPTION_KEY: not a key",
                                           env={"MONOLITE_REPLICA_ENCRYPTION_KEY": self.key_a[:63]})
            self.assertNotIn(self.key_a[:63], done.stderr)
        self.assertFalse(os.path.exists(self.db_path))
        self.assertFalse(os.path.exists(self.out("x.db")))

    def test_a_key_is_never_a_flag_value(self):
        self.assert_usage_error(["restore", "-o", self.out("x.db"), "--replica", self.url,
                                 "--replica-encryption-key", self.key_a], "unknown flag --replica-encryption-key")


if __name__ == "__main__":
    unittest.main()
