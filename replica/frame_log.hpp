// frame_log — the primary's replication log on disk: the database's committed WAL frames by
// monotonic frame number, kept in `<db_path>-replog/` for embedded replicas and read followers to
// pull (libSQL's replication protocol). Not thread-safe: one owner (an actor's strand) calls it;
// every call does blocking file I/O.
//
// On disk: `meta` (replaced atomically) and segment files `seg-<first frame_no, 20 digits>` of
// fixed-size records, record = 16-byte header {frame_no u64 LE, page_no u32 LE, size_after u32 LE}
// followed by the page. Appends are not fsynced: durability comes from the clean/dirty rule. close()
// syncs everything and writes a `clean` record with the database files' fingerprint; open() continues
// the generation only if that record is there and the fingerprint still matches, and removes it
// before returning. Anything else (a crash, a restore, someone else writing the database) starts a
// new generation: its frames describe another history, so the old segments are deleted.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/error.hpp"
#include "replica/format/frame_log_meta.hpp"

namespace monolite::replica {

// stat() of `db_path` and `db_path-wal`.
db_fingerprint fingerprint_of(const std::string& db_path);

struct frame_log_options {
  std::uint32_t page_size = 4096;       // a power of two, 512..65536; fixed for the log's life
  std::uint64_t segment_frames = 4096;  // a segment is closed at the first commit at or past this
};

// One frame of a commit as the caller gives it; `page` must be page_size bytes.
struct frame_in {
  std::uint32_t page_no = 0;
  std::uint32_t size_after = 0;  // database pages after the commit on its last frame, 0 on the others
  std::string_view page;
};

// Frame numbers [first, next).
struct frame_range {
  std::uint64_t first = 0;
  std::uint64_t next = 0;
};

// Error codes of read() a server tells apart from I/O failures.
inline constexpr std::string_view need_snapshot_code = "NEED_SNAPSHOT";  // `from` was trimmed away
inline constexpr std::string_view ahead_of_log_code = "AHEAD_OF_LOG";    // `from` is past the end

// How open() found the log (for the caller to log).
enum class log_opening {
  created,         // no log yet: a new log_id, generation starting at frame 0
  continued,       // closed cleanly and the database unchanged: same generation, numbering goes on
  new_generation,  // not closed cleanly, or the database changed: new generation_id, old frames gone
  started_over,    // meta unreadable or another format/page size: new log_id, everything deleted
};

class frame_log {
 public:
  static constexpr std::size_t header_size = 16;

  // Creates `<db_path>-replog/` on first use. `now` is fingerprint_of(db_path) before the database
  // is opened for writing.
  static proto::result<frame_log> open(const std::string& db_path, const frame_log_options& options,
                                       const db_fingerprint& now);

  // Movable. Destroying a log without close() is, to the next open(), a crash: a new generation.
  frame_log(frame_log&&) noexcept = default;
  frame_log& operator=(frame_log&&) noexcept = default;

  // Appends one commit (frames in WAL order, the last with size_after != 0) and returns the frame
  // numbers it was given. On a failed write the log is as before the call.
  proto::result<frame_range> append(std::span<const frame_in> commit);

  // Appends up to `max_frames` whole records (header + page each, in frame order) from frame `from`
  // to `out`, stopping at the end of the log; returns how many. A read may end inside a commit: the
  // caller decides where to cut. `from` < first_frame_no() fails with need_snapshot_code, `from` >
  // next_frame_no() with ahead_of_log_code.
  proto::result<std::size_t> read(std::uint64_t from, std::size_t max_frames, std::string& out) const;

  // Deletes the oldest whole segments while the segments' bytes exceed `max_bytes` or a segment's
  // last write (its mtime) is older than `max_age` at `now`; 0 means no limit. Never the segment
  // being written; segments start at commit boundaries, so first_frame_no() always does.
  proto::result<void> trim(std::uint64_t max_bytes, std::chrono::seconds max_age,
                           std::chrono::system_clock::time_point now);

  // Frames were lost at run time: a new generation from `at` (default next_frame_no(); never
  // before it), old segments deleted.
  proto::result<void> start_new_generation(std::optional<std::uint64_t> at = std::nullopt);

  // Syncs every segment and records `at_close` (the database files after they were closed) as clean.
  // The log must not be used afterwards.
  proto::result<void> close(const db_fingerprint& at_close);

  std::uint64_t next_frame_no() const { return next_; }
  std::uint64_t first_frame_no() const { return segments_.empty() ? next_ : segments_.front().first; }
  std::uint64_t generation_start() const { return generation_start_; }
  const std::string& generation_id() const { return generation_id_; }
  const std::string& log_id() const { return log_id_; }
  std::uint32_t page_size() const { return page_size_; }
  std::size_t record_size() const { return header_size + page_size_; }
  std::uint64_t bytes_on_disk() const;
  const std::string& directory() const { return dir_; }
  log_opening opening() const { return opening_; }
  const std::string& opening_reason() const { return opening_reason_; }  // why not `continued`

 private:
  struct segment {
    std::uint64_t first = 0;
    std::uint64_t count = 0;
    bool synced = true;  // false once written to until close() fsyncs it
  };
  // The current segment's descriptor, closed with its owner.
  class file_handle {
   public:
    file_handle() = default;
    explicit file_handle(int fd) : fd_(fd) {}
    file_handle(file_handle&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    file_handle& operator=(file_handle&& other) noexcept;
    ~file_handle();
    int get() const { return fd_; }

   private:
    int fd_ = -1;
  };

  frame_log() = default;
  proto::result<void> recover(const db_fingerprint& now);
  proto::result<std::string> scan_segments();
  proto::result<void> begin_generation(std::uint64_t start);
  proto::result<void> save_meta(const db_fingerprint* clean) const;
  proto::result<void> remove_segments();
  proto::result<void> open_current();
  proto::result<void> rotate();
  proto::result<void> write_records(std::span<const frame_in> commit);
  proto::result<void> check_commit(std::span<const frame_in> commit) const;
  proto::result<void> read_records(const segment& s, std::uint64_t at, std::uint64_t count, std::string& out) const;
  proto::result<void> sync_segments();
  proto::result<void> check_open() const;
  std::string segment_path(std::uint64_t first) const;

  std::string dir_;
  std::uint32_t page_size_ = 4096;
  std::uint64_t segment_frames_ = 4096;
  std::string log_id_, generation_id_;
  std::uint64_t generation_start_ = 0;
  std::uint64_t next_ = 0;
  std::vector<segment> segments_;  // oldest first, contiguous; the last is written through current_
  file_handle current_;
  bool closed_ = false;
  std::string buffer_;  // records being written, reused across appends
  log_opening opening_ = log_opening::created;
  std::string opening_reason_;
};

}  // namespace monolite::replica
