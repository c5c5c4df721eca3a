// Verify: is the replica exactly the live database? Holds a read transaction on the live file,
// waits until the replica has reached the live WAL's last commit, restores exactly that position
// into a temporary folder, and compares SHA-256 digests of the two database images.
#pragma once
#include <chrono>
#include <string>

#include "replica/format/layout.hpp"
#include "replica/object_store.hpp"
#include "replica/restore.hpp"

namespace monolite::replica {

struct verify_report {
  std::string generation;
  layout::position at;
  std::string live_sha256, replica_sha256;
  bool same() const { return live_sha256 == replica_sha256; }
};

// `wait`: how long the replica may take to catch up with the live database.
boost::system::result<verify_report, restore_error> verify_live(object_store& store, const std::string& db_path,
                                                                std::chrono::milliseconds wait);

}  // namespace monolite::replica
