"""Compaction of a sync-mode replica: one WAL segment per commit becomes a few merged segments,
and restores (latest, and to a time inside a merged run) give exactly the same rows."""

import hashlib
import os
import shutil
import time
import unittest

from harness import LOAD_SCHEMA, db_file_rows, wait_until
from replica_harness import ReplicationTestCase, file_replica_keys, file_url, parse_layout, rfc3339, wait_caught_up

WRITES = 300
SYNC = ("--replica-sync", "--replica-sync-timeout", "10s")


def table_digest(db_path):
    rows = db_file_rows(db_path, "SELECT id, writer, seq FROM load ORDER BY id")
    return hashlib.sha256(repr(rows).encode()).hexdigest()


class CompactionTest(ReplicationTestCase):
    def setUp(self):
        self.workdir = self.make_tempdir()
        self.db_path = os.path.join(self.workdir, "app.db")
        self.replica_dir = os.path.join(self.workdir, "replica")
        self.url = file_url(self.replica_dir)

    def serve(self, compact_interval):
        return self.start_replicated(self.db_path, self.url, *SYNC, "--replica-compact-interval", compact_interval,
                                     workdir=self.workdir)

    def segments(self):
        return parse_layout(file_replica_keys(self.replica_dir))[1]

    def output(self, name):
        return os.path.join(self.workdir, "restored", name)

    def write_rows(self, http, ids):
        """Single-row inserts, one commit each; {id: time right after its acknowledgement}."""
        acked = {}
        for row in ids:
            self.execute_ok(http, "INSERT INTO load VALUES (?, 0, ?)", [row, row])
            acked[row] = time.time()
            mark_ms = int(acked[row] * 1000)
            while int(time.time() * 1000) <= mark_ms:  # the next commit lands in a later millisecond
                pass
        return acked

    def test_compaction_keeps_every_row_and_point_in_time_restores(self):
        server = self.serve("0")  # off: first the one-segment-per-commit history
        http = self.client(server)
        self.execute_ok(http, LOAD_SCHEMA)
        acked = self.write_rows(http, range(1, WRITES + 1))
        self.assertEqual(server.stop(), 0, server.log_tail())
        before = len(self.segments())
        self.assertGreaterEqual(before, WRITES, "sync mode: one segment per commit")
        originals = os.path.join(self.workdir, "originals")
        shutil.copytree(self.replica_dir, originals)

        server = self.serve("300ms")  # continues the generation; a write makes the next pass due
        http = self.client(server)
        acked.update(self.write_rows(http, [WRITES + 1]))
        compacted = wait_until(lambda: len(self.segments()) <= 5, timeout=30)
        self.assertTrue(wait_caught_up(http, new_generation=False))
        self.assertEqual(server.stop(), 0, server.log_tail())
        self.assertTrue(compacted, f"{len(self.segments())} segments left of {before}")
        self.assertIn("replica compacted", server.log_text())

        expected = set(acked)
        self.assertEqual(self.restore_ok(self.output("latest.db"), self.url), expected)
        self.assertEqual(table_digest(self.output("latest.db")), table_digest(self.db_path))
        middle = acked[WRITES // 2]
        self.assertTrue(any(s.first_time_s < middle < s.last_time_s for s in self.segments()),
                        "the mark should fall inside a merged segment")
        self.assertEqual(self.restore_ok(self.output("middle.db"), self.url, "--timestamp", rfc3339(middle)),
                         set(range(1, WRITES // 2 + 1)))

        # What a crash between uploading a merged segment and deleting its parts leaves: both.
        shutil.copytree(os.path.join(originals), self.replica_dir, dirs_exist_ok=True)
        self.assertGreater(len(self.segments()), WRITES)
        self.assertEqual(self.restore_ok(self.output("both.db"), self.url), expected)
        self.assertEqual(self.restore_ok(self.output("both-middle.db"), self.url, "--timestamp", rfc3339(middle)),
                         set(range(1, WRITES // 2 + 1)))
        server = self.serve("300ms")  # the next pass deletes the leftovers
        http = self.client(server)
        acked.update(self.write_rows(http, [WRITES + 2]))
        self.assertTrue(wait_until(lambda: len(self.segments()) <= 6, timeout=30),
                        f"{len(self.segments())} segments left")
        self.assertEqual(server.stop(), 0, server.log_tail())
        self.assertEqual(self.restore_ok(self.output("final.db"), self.url), set(acked))


if __name__ == "__main__":
    unittest.main()
