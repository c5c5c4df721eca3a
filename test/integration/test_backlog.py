"""A stalled replica must not eat the machine: with one S3 upload held, sustained writes keep the
server's memory within --replica-max-backlog plus a stated margin, the backlog is given up (and
logged) the moment it is crossed, memory comes back after the stall, and the replica recovers
into a new generation that restores exactly."""

import hashlib
import mmap
import os
import sqlite3
import sys
import time
import unittest

from harness import wait_until
from replica_harness import Ballast, db_file_integrity, replica_metrics, restore, wait_caught_up
from test_replication_s3 import S3TestCase

MIB = 1 << 20
BACKLOG = 32 * MIB
# Beyond the backlog: the segment being uploaded (≤ 16 MiB of frames, and its compressed copy),
# the chunks in flight between the writer and the shipper, allocator slack.
MARGIN = 48 * MIB
BALLAST_WRITERS = 3
WAL_DURING_STALL = 4 * BACKLOG  # what the writers push while the upload is held
# Under AddressSanitizer freed memory waits in a quarantine (256 MiB) and goes back to the system
# only every few seconds: RSS would measure that, not the server. These settings (ignored by
# builds without ASan) make its allocator hand memory back as the release allocator does; every
# other ASan check stays on.
ALLOCATOR_AS_IN_RELEASE = {
    "ASAN_OPTIONS": ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""), "quarantine_size_mb=0",
                                           "thread_local_quarantine_size_kb=0",
                                           "allocator_release_to_os_interval_ms=100"])),
}


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for {pid}")


def snapshots_uploaded(client):
    return sum(replica_metrics(client).get("monolite_replica_snapshots_total", {}).values())


def runs_asan(pid):
    """gcc links ASan's runtime as libasan.so; clang links it into the binary itself."""
    with open(f"/proc/{pid}/maps") as maps:
        if "libasan" in maps.read():
            return True
    with open(f"/proc/{pid}/exe", "rb") as exe, mmap.mmap(exe.fileno(), 0, access=mmap.ACCESS_READ) as image:
        return image.find(b"__asan_init") != -1


def table_digest(path, table):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = db.execute(f"SELECT id, hex(b) FROM {table} ORDER BY id").fetchall()
    finally:
        db.close()
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


class StalledUploadTest(S3TestCase):
    def test_memory_stays_bounded_while_an_upload_is_held(self):
        proxy = self.proxy()
        server = self.serve("--replica-max-backlog", str(BACKLOG), "--cache-size", "-2000",
                            url=self.via(proxy, timeout_ms="120000"), env={**self.env, **ALLOCATOR_AS_IN_RELEASE})
        self.addCleanup(proxy.set_mode, "pass")  # first, should the test fail during the stall
        http = self.client(server)
        self.execute_ok(http, "CREATE TABLE ballast(id INTEGER PRIMARY KEY, b BLOB)")
        self.assertTrue(wait_caught_up(http), "the replica did not catch up before the stall")
        warm = [Ballast(server.port, size=32768, pause=0.0).start() for _ in range(BALLAST_WRITERS)]
        wait_until(lambda: sum(b.count for b in warm) >= 400, timeout=60)
        for b in warm:
            b.stop()
        self.assertTrue(wait_caught_up(http, new_generation=False))
        before = rss_bytes(server.proc.pid)

        proxy.set_mode("stall")
        writers = [Ballast(server.port, size=32768, pause=0.0).start() for _ in range(BALLAST_WRITERS)]
        self.addCleanup(lambda: [w.stop() for w in writers])
        wait_until(lambda: proxy.count("stall") >= 1, timeout=30)  # an upload is now held
        held_at, peak = sum(w.count for w in writers), 0
        deadline = time.monotonic() + 120
        while (sum(w.count for w in writers) - held_at) * 32768 < WAL_DURING_STALL and time.monotonic() < deadline:
            peak = max(peak, rss_bytes(server.proc.pid))
            time.sleep(0.05)  # sampling period of the RSS probe, not a wait for a condition
        written = (sum(w.count for w in writers) - held_at) * 32768
        self.assertGreaterEqual(written, WAL_DURING_STALL, "the writers could not push enough during the stall")
        self.assertEqual([f for w in writers for f in w.failures], [])
        self.assertLessEqual(peak - before, BACKLOG + MARGIN,
                             f"RSS grew {(peak - before) / MIB:.0f} MiB during the stall "
                             f"(before {before / MIB:.0f} MiB, {written / MIB:.0f} MiB written)")
        # Given up while the upload is still held, not after it returns.
        self.assertTrue(wait_until(lambda: any("backlog over its limit" in str(r) for r in server.log_records()),
                                   timeout=10), "the backlog limit was not acted on during the stall")

        proxy.set_mode("pass")
        for w in writers:
            w.stop()
        self.assertTrue(wait_caught_up(http, timeout=120), "the replica did not recover after the stall")
        # Recovered means the new generation's snapshot is in the store, not only its segments.
        self.assertTrue(wait_until(lambda: snapshots_uploaded(http) >= 2, timeout=120))
        after = rss_bytes(server.proc.pid)
        # Giving memory back is the system allocator's part (glibc, with malloc_trim); ASan brings
        # an allocator of its own, so this is checked on the builds that ship (debug, release).
        if not runs_asan(server.proc.pid):
            self.assertLessEqual(after, before * 1.2 + 2 * MIB,
                                 f"RSS after recovery {after / MIB:.0f} MiB vs {before / MIB:.0f} MiB before the stall")

        print(f"\nRSS before {before / MIB:.1f} MiB, peak during the stall {peak / MIB:.1f} MiB "
              f"({written / MIB:.0f} MiB written), after recovery {after / MIB:.1f} MiB", file=sys.stderr)
        live = table_digest(self.db_path, "ballast")
        restored = os.path.join(self.workdir, "restored.db")
        done = restore(restored, self.url, env=self.env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(db_file_integrity(restored), ["ok"])
        self.assertEqual(table_digest(restored, "ballast"), live)


if __name__ == "__main__":
    unittest.main()
