// Restore: rebuild a database file from a replica — the newest snapshot at or before the target
// time, then every WAL segment after it up to that time — downloaded in parallel, applied in
// order, checked with PRAGMA integrity_check, and only then moved into place (never over an
// existing file).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "replica/format/layout.hpp"
#include "replica/format/restore_plan.hpp"
#include "replica/object_store.hpp"
#include "replica/retrying_store.hpp"

namespace monolite::replica {

struct restore_request {
  std::string output;
  std::optional<std::int64_t> timestamp_ms;          // newest state at or before this time
  std::string generation;                            // empty: the one that covers the time
  std::optional<replica::layout::position> stop_at;  // exactly this position (verify)
  bool dry_run = false;  // plan only: nothing is downloaded and nothing written (outcome planned)
  bool if_db_not_exists = false;
  bool if_replica_exists = false;
  unsigned parallelism = 8;
  std::function<void(const std::string&)> progress;  // one line of progress (from any thread)
  retry_policy retry;                                // transient store errors, per object
  // Polled between objects: once true, the restore stops with an error and leaves nothing behind.
  std::function<bool()> cancelled;
};

enum class restore_outcome { restored, output_exists, replica_empty, planned };

struct restore_report {
  restore_outcome outcome = restore_outcome::restored;
  std::string generation;
  replica::layout::position at;
  std::int64_t time_ms = 0;  // commit time of the last transaction applied
  std::uint64_t bytes_downloaded = 0, db_bytes = 0;
  std::size_t segments = 0;
  std::optional<restore_plan> plan;  // what was (or, with dry_run, would be) downloaded
};

struct restore_error {
  std::string message;
};

// The temporary file a restore into `output` by this process writes before renaming it.
std::string restore_temp_path(const std::string& output);

boost::system::result<restore_report, restore_error> restore(object_store& store, const restore_request& request);

}  // namespace monolite::replica
