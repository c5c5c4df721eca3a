// replica_stats_book — the statistics one replica_shipper publishes. The shipper's threads update
// it, /metrics reads it from HTTP threads: a mutex is held only to update or copy, never across a
// store call. The lag is computed when read, so a scrape sees it grow while nothing is uploaded.
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "actors/replication_types.hpp"

namespace monolite::actors {

class replica_stats_book {
 public:
  explicit replica_stats_book(std::string replica) { stats_.replica = std::move(replica); }

  // The URL without secrets, for logs.
  const std::string& replica() const { return stats_.replica; }

  // A WAL segment of `bytes` holding commits of these times is in the store.
  void segment_uploaded(std::size_t bytes, const std::vector<std::int64_t>& commit_times_ms);
  void snapshot_uploaded(std::size_t bytes);
  void snapshot_counted();
  void failed();
  void deleted(std::size_t objects);
  // The shipper's state of the moment: its generation, frames waiting, the oldest waiting commit (0: none).
  void publish(const std::string& generation, std::uint64_t lag_frames, std::int64_t oldest_pending_ms);

  // `requests` is the store's own count, added as read.
  replica_stats read(const replica::request_counts& requests) const;

 private:
  mutable std::mutex mutex_;
  replica_stats stats_;
  std::int64_t oldest_pending_ms_ = 0;
};

}  // namespace monolite::actors
