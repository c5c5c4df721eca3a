// follow_apply — a follower's copy of the primary's database, changed one batch of whole pages at
// a time while its readers read it. SQLite has no public API to inject pages, so the copy is a
// rollback-journal database (page 1 bytes 18/19 = 1) and a batch is applied crash-safely:
//   1. its pages go to `<db>-follow-redo` (header: target position, page count, checksum), fsynced;
//   2. SQLite's EXCLUSIVE lock is taken by a connection of ours (readers finish their transaction;
//      new ones wait on their busy timeout);
//   3. the pages are written through a descriptor opened once and never closed while SQLite has
//      the file open (closing any descriptor of a file drops the process's POSIX locks on it), the
//      file truncated to the batch's size, and page 1 patched (file change counter + 1, version-
//      valid-for, in-header size) so that readers drop their page cache;
//   4. fdatasync; 5. the lock is released; 6. `<db>-follow-state` (log id, next frame) is replaced
//      atomically and the redo file removed.
// At open, a complete redo file (checksum good) is applied again (idempotent: whole pages), a torn
// one is discarded. Not thread-safe: one thread (the follower's) uses it.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proto/error.hpp"

struct sqlite3;

namespace monolite::replica {

// Where the copy stands: the log it follows and the next frame number it needs from it.
struct follow_position {
  std::string log_id;
  std::uint64_t next_frame = 0;
  bool operator==(const follow_position&) const = default;
};

std::string follow_redo_path(const std::string& db_path);
std::string follow_state_path(const std::string& db_path);
// The recorded position; none when the state file is missing (a fresh follower).
proto::result<std::optional<follow_position>> read_follow_state(const std::string& db_path);

// Builds the redo file of one batch: pages are streamed to it as they come (a snapshot can be
// larger than memory); finish() makes it complete and durable.
class redo_writer {
 public:
  static proto::result<redo_writer> create(const std::string& db_path);
  redo_writer(redo_writer&& other) noexcept;
  redo_writer& operator=(redo_writer&&) = delete;
  ~redo_writer();

  // `image` must be 4096 bytes. A page added twice is written twice, the later one last.
  proto::result<void> add_page(std::uint32_t page_no, std::string_view image);
  // The position after the batch and the database's size in pages then; fsyncs file and folder.
  proto::result<void> finish(const follow_position& after, std::uint32_t size_after);
  std::uint32_t pages() const { return count_; }

 private:
  redo_writer(std::string path, int fd);
  std::string path_;
  int fd_ = -1;
  std::uint32_t count_ = 0;
  std::string buffer_;  // records not yet written
};

class follow_applier {
 public:
  // Opens (creating an empty file if needed) the copy and recovers an interrupted batch.
  static proto::result<std::unique_ptr<follow_applier>> open(const std::string& db_path, int busy_timeout_ms = 5000);
  ~follow_applier();
  follow_applier(const follow_applier&) = delete;
  follow_applier& operator=(const follow_applier&) = delete;

  // Applies the finished redo file (steps 2–6 above).
  proto::result<void> apply_redo();
  const std::optional<follow_position>& position() const { return position_; }

 private:
  follow_applier(std::string db_path, int fd, sqlite3* lock_db, std::optional<follow_position> position);
  proto::result<void> write_pages(int redo_fd, std::uint32_t count, std::uint32_t size_after);
  proto::result<void> lock_exclusive();
  void unlock();

  std::string db_path_;
  int fd_ = -1;                 // the database file; closed only after lock_db_ is
  sqlite3* lock_db_ = nullptr;  // rollback-journal connection that only takes the EXCLUSIVE lock
  std::optional<follow_position> position_;
};

}  // namespace monolite::replica
