#include "actors/replica_stats_book.hpp"

#include <algorithm>

namespace monolite::actors {

void replica_stats_book::segment_uploaded(std::size_t bytes, const std::vector<std::int64_t>& commit_times_ms) {
  std::lock_guard lock(mutex_);
  stats_.bytes_shipped += bytes;
  stats_.objects_shipped += 1;
  stats_.last_success_ms = now_ms();
  stats_.healthy = true;
  for (auto commit_ms : commit_times_ms) {
    const double delay = double(stats_.last_success_ms - commit_ms) / 1000.0;
    std::size_t bucket = 0;
    while (bucket < ship_delay_bucket_count && delay > ship_delay_buckets[bucket])
      ++bucket;
    stats_.ship_delay_counts[bucket] += 1;
    stats_.ship_delay_sum += delay;
  }
}

void replica_stats_book::snapshot_uploaded(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  stats_.bytes_shipped += bytes;
  stats_.objects_shipped += 1;
}

void replica_stats_book::snapshot_counted() {
  std::lock_guard lock(mutex_);
  stats_.snapshots += 1;
}

void replica_stats_book::failed() {
  std::lock_guard lock(mutex_);
  stats_.errors += 1;
  stats_.healthy = false;
}

void replica_stats_book::deleted(std::size_t objects) {
  std::lock_guard lock(mutex_);
  stats_.deleted += objects;
}

void replica_stats_book::publish(const std::string& generation, std::uint64_t lag_frames,
                                 std::int64_t oldest_pending_ms) {
  std::lock_guard lock(mutex_);
  stats_.generation = generation;
  stats_.lag_frames = lag_frames;
  oldest_pending_ms_ = oldest_pending_ms;
}

replica_stats replica_stats_book::read(const replica::request_counts& requests) const {
  std::lock_guard lock(mutex_);
  replica_stats out = stats_;
  out.requests = requests;
  out.lag_seconds = oldest_pending_ms_ ? std::max(0.0, double(now_ms() - oldest_pending_ms_) / 1000.0) : 0.0;
  return out;
}

}  // namespace monolite::actors
