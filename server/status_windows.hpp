// The rolling windows of /admin/status: a sample of the server's counters every second (taken by
// the guard timer, server/guards.hpp), kept in two bounded rings — one a second for 15 minutes,
// one a minute for 24 hours — and read back as rates, fractions and percentiles over a window.
#pragma once
#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

#include "common/histogram.hpp"

namespace monolite::server {

// Counters are totals since the start (a window subtracts two samples); gauges are the value when
// sampled, or in the minute ring the highest of the samples it stands for.
struct status_sample {
  double at_seconds = 0;  // since the server started, steady clock
  std::uint64_t write_statements = 0, commits = 0, busy_microseconds = 0;
  std::uint64_t long_reads = 0, checkpoints_incomplete = 0;
  histogram_counts commit_durations, read_durations;  // microseconds
  std::uint64_t database_bytes = 0, wal_bytes = 0;
  std::uint64_t connections = 0, client_addresses = 0;
};

// What a window says; `seconds` is how much of it the samples cover (less just after a start).
struct window_stats {
  double seconds = 0;
  double write_statements_per_second = 0, commits_per_second = 0, writer_busy_fraction = 0;
  double commit_p50_seconds = 0, commit_p99_seconds = 0, read_p99_seconds = 0;
  std::uint64_t long_reads = 0, checkpoints_incomplete = 0;
  std::uint64_t database_bytes = 0, wal_bytes = 0;  // at the newest sample
  std::uint64_t peak_connections = 0, peak_client_addresses = 0;
};

// The newest `capacity` samples, oldest overwritten first.
class sample_ring {
 public:
  explicit sample_ring(std::size_t capacity) : capacity_(capacity) { samples_.reserve(capacity); }
  void push(const status_sample& sample);
  std::size_t size() const { return samples_.size(); }
  const status_sample& newest() const { return nth_newest(0); }  // not when empty
  // From `newest` (this ring's or a later one) back to the newest sample held at least `seconds`
  // older than it, or the oldest held when none is.
  window_stats window_until(const status_sample& newest, double seconds) const;

 private:
  const status_sample& nth_newest(std::size_t n) const;  // 0: the newest

  std::size_t capacity_;
  std::vector<status_sample> samples_;
  std::size_t next_ = 0;  // where the next push goes once full
};

window_stats between(const status_sample& from, const status_sample& to);

// Thread-safe: record() from the guard timer, window() from /admin/status.
class status_book {
 public:
  static constexpr double fine_span_seconds = 15 * 60;
  static constexpr double coarse_step_seconds = 60;

  status_book();
  void record(const status_sample& sample);
  // Windows up to 15 minutes come from the second ring, longer ones from the minute ring.
  window_stats window(double seconds) const;

 private:
  mutable std::mutex mutex_;
  sample_ring fine_, coarse_;
  double last_coarse_at_ = -1;
  std::uint64_t peak_connections_ = 0, peak_client_addresses_ = 0;  // since the last minute sample
};

}  // namespace monolite::server
