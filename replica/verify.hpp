// Verify: is the replica exactly the live database? Holds a read transaction on the live file,
// waits until the replica has reached the live WAL's last commit, digests the live image there,
// lets go of the live file, restores exactly that position into a scratch file, and compares
// SHA-256 digests of the two database images (and, when they differ, their pages).
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "replica/format/layout.hpp"
#include "replica/object_store.hpp"
#include "replica/restore.hpp"

namespace monolite::replica {

// One side of the comparison: its digest and shape.
struct image_summary {
  std::string sha256;
  std::uint32_t page_size = 0, pages = 0;
};

struct verify_report {
  std::string generation;
  layout::position at;
  image_summary live, replica;
  std::optional<std::uint32_t> first_differing_page;  // 1-based; set when the images differ
  bool same() const { return live.sha256 == replica.sha256; }
};

struct verify_options {
  std::chrono::milliseconds wait{30000};  // how long the replica may take to catch up with the live database
  // Where the replica is restored (with restore's temporary file next to it); always removed
  // afterwards. Empty: a folder of this process in the system's temporary directory.
  std::string scratch;
  unsigned parallelism = 8;         // downloads in flight during the restore
  std::function<bool()> cancelled;  // polled while waiting and between objects: stops the verify
};

boost::system::result<verify_report, restore_error> verify_live(object_store& store, const std::string& db_path,
                                                                const verify_options& options);

// Every file a verify with this scratch path may leave behind if the process dies mid-way
// (the restored copy, its SQLite side files, restore's temporary file of this process).
void remove_verify_scratch(const std::string& scratch);

// "page 3 of 12 differs", "the live image has 12 pages and the replica's 13", … (for logs).
std::string describe_difference(const verify_report& report);

}  // namespace monolite::replica
