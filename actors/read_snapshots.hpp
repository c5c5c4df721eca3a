// Read snapshots held now, for /metrics and the server's guards: a read snapshot keeps the WAL
// from being checkpointed past it, so its age is worth watching. Each connection that can hold one
// keeps a stamp (an atomic, written by its owner, 0 while it holds none); read_snapshots sums
// stamps when asked. No lock: a stamp read a moment late only makes one reading a moment stale.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace monolite::actors {

using snapshot_clock = std::chrono::steady_clock;

// A time as a stamp: steady-clock nanoseconds, never 0 (0 means "none held").
inline std::int64_t snapshot_stamp(snapshot_clock::time_point t) {
  return std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

struct read_snapshots {
  std::size_t held = 0;
  std::int64_t oldest_stamp = 0;  // 0 while none is held

  void add(std::int64_t stamp) {
    if (stamp == 0) return;
    ++held;
    keep_older(stamp);
  }
  void add(const std::atomic<std::int64_t>& stamp) { add(stamp.load(std::memory_order_relaxed)); }
  void add(const read_snapshots& other) {
    held += other.held;
    if (other.oldest_stamp != 0) keep_older(other.oldest_stamp);
  }
  // Seconds the oldest one has been held at `now` (0 while none is).
  double oldest_seconds(snapshot_clock::time_point now) const {
    if (oldest_stamp == 0) return 0;
    return std::max(0.0, static_cast<double>(snapshot_stamp(now) - oldest_stamp) / 1e9);
  }

 private:
  void keep_older(std::int64_t stamp) {
    if (oldest_stamp == 0 || stamp < oldest_stamp) oldest_stamp = stamp;
  }
};

}  // namespace monolite::actors
