// What the writer and the replicator exchange: captured WAL chunks, a pinned read position for
// snapshots, and per-replica statistics.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.hpp"
#include "db/connection.hpp"
#include "db/wal_tail.hpp"
#include "replica/format/layout.hpp"
#include "replica/object_store.hpp"

namespace monolite::actors {

using replica::layout::position;

// A read transaction held open at a WAL position, so the database can be copied as of that
// position while writes go on. Ends (ROLLBACK, close) when destroyed.
struct pinned_snapshot {
  std::unique_ptr<db::connection> reader;
  position at;
  std::uint32_t wal_frames = 0;  // frames of the live WAL that belong to the image (0: the file alone)
  std::int64_t time_ms = 0;
  std::uint64_t next_frame_no = 0;  // the replication log's numbering at this position (frame_sink)
  std::string db_path;
  // The writer's count of pins alive: while one is, a TRUNCATE checkpoint would only wait for it
  // (up to the busy timeout, with every commit queued behind), so the writer runs PASSIVE ones.
  std::shared_ptr<std::atomic<int>> pins_alive;
  ~pinned_snapshot();
};

// Receives every commit's WAL frames as the writer captured them, numbered by the writer (the
// replication log that libSQL replicas and followers read). Called on the writer's strand: an
// implementation posts to its own executor and never blocks.
class frame_sink {
 public:
  virtual ~frame_sink() = default;
  // `first_frame_no`: the number of the chunk's first frame; the next chunk continues after it.
  virtual void on_commit(std::shared_ptr<const db::wal_chunk> chunk, std::uint64_t first_frame_no) = 0;
  // Frames were lost (the WAL was not what the writer expected): numbering goes on at `next_frame_no`.
  virtual void on_gap(std::uint64_t next_frame_no) = 0;
};

using pin_handler = std::function<void(proto::result<std::shared_ptr<pinned_snapshot>>)>;
// Asks the writer to pin its current position; the handler runs on the writer's strand.
using snapshot_pinner = std::function<void(pin_handler)>;

struct replica_options {
  bool sync = false;                              // acknowledge writes only once shipped
  std::chrono::milliseconds interval{500};        // async: upload at most this often
  std::chrono::milliseconds sync_timeout{10000};  // sync: fail a write after waiting this long
  std::chrono::milliseconds snapshot_interval{std::chrono::hours(24)};
  std::chrono::milliseconds retention{std::chrono::hours(72)};
  std::chrono::milliseconds retention_check{std::chrono::hours(1)};
  // How often runs of small WAL segments are merged (replica/compactor.hpp); 0: never.
  std::chrono::milliseconds compact_interval{std::chrono::minutes(5)};
  std::size_t max_backlog_bytes = 256u << 20;  // past this, a new generation starts
  std::size_t max_segment_bytes = 16u << 20;
};

// Seconds from a commit to its segment being in the replica (Prometheus histogram buckets).
inline constexpr double ship_delay_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
inline constexpr std::size_t ship_delay_bucket_count = sizeof(ship_delay_buckets) / sizeof(double);

struct replica_stats {
  std::string replica;  // URL without secrets
  std::string generation;
  std::uint64_t bytes_shipped = 0, objects_shipped = 0, errors = 0, snapshots = 0, deleted = 0;
  std::uint64_t lag_frames = 0;
  double lag_seconds = 0;                                             // age of the oldest commit not yet shipped
  std::int64_t last_success_ms = 0;                                   // 0 = never
  bool healthy = true;                                                // the last attempt succeeded
  std::uint64_t ship_delay_counts[ship_delay_bucket_count + 1] = {};  // last one: +Inf
  double ship_delay_sum = 0;
  replica::request_counts requests;  // made to the store, by kind
};

}  // namespace monolite::actors
