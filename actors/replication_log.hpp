// replication_log — owns the primary's frame log (replica/frame_log) that libSQL's embedded
//   replicas and monolite followers pull committed frames from, by frame number.
// Executor: its own strand on the database pool; the log's file I/O runs there, never on the
//   writer's strand (asserted in debug builds).
// Replies: position() and read() post their answers to the caller's executor.
// Mailbox: commits from the writer wait in memory up to `max_pending_bytes`; past that they are
//   dropped and the log starts a new generation when it catches up (replicas take a snapshot).
//   The writer never waits for the log.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "actors/replication_types.hpp"
#include "replica/frame_log.hpp"

namespace monolite::actors {

struct replication_log_options {
  std::uint64_t max_bytes = 256ull << 20;   // trimmed past this many bytes of frames (0: no limit)
  std::chrono::seconds max_age{24 * 3600};  // and past this age (0: no limit)
  std::uint64_t max_pending_bytes = 64ull << 20;
  std::chrono::milliseconds trim_interval{10000};
  std::uint64_t segment_frames = 4096;
};

// Where the log stands: what Hello answers.
struct log_position {
  std::string generation_id;
  std::uint64_t generation_start = 0;
  std::uint64_t first = 0;  // the oldest frame still kept
  std::uint64_t next = 0;   // one past the last committed frame
};

struct replication_log_stats {
  std::uint64_t next = 0, first = 0, bytes = 0, generations = 0, dropped_commits = 0, snapshots = 0;
};

class replication_log : public frame_sink, public std::enable_shared_from_this<replication_log> {
 public:
  // Before the database is opened for writing (the log compares the files with how it left them).
  static proto::result<std::shared_ptr<replication_log>> open(boost::asio::any_io_executor executor,
                                                              const std::string& db_path,
                                                              const replication_log_options& options);
  ~replication_log() override;

  // How open() found the log, for the startup log line; `continued()` false means replicas that
  // followed an earlier history must start over.
  replica::log_opening opening() const { return opening_; }
  const std::string& opening_reason() const { return opening_reason_; }
  std::uint64_t next_frame_no() const { return stats_next_.load(std::memory_order_acquire); }
  // The highest schema cookie any replica may have seen (persisted), for the writer to exceed
  // when a new history starts (a replica's open connection would keep its cached schema).
  std::uint32_t schema_cookie_floor() const { return cookie_floor_; }

  // frame_sink, on the writer's strand.
  void on_commit(std::shared_ptr<const db::wal_chunk> chunk, std::uint64_t first_frame_no) override;
  void on_gap(std::uint64_t next_frame_no) override;

  void start_trimming();
  // Thread-safe, at shutdown: no more trimming (the database pool's threads can then finish).
  void stop_timers();
  void position(boost::asio::any_io_executor reply_to, std::function<void(log_position)> done);
  // A protobuf `Frames` message of up to `max_frames` frames from `from` (libSQL's wire frames),
  // or the log's error (replica::need_snapshot_code when `from` was trimmed away or belongs to an
  // earlier generation).
  void read(std::uint64_t from, std::size_t max_frames, boost::asio::any_io_executor reply_to,
            std::function<void(proto::result<std::string>)> done);
  replication_log_stats stats() const;
  void count_snapshot() { snapshots_.fetch_add(1, std::memory_order_relaxed); }
  // After the executor stopped and the database's connections closed: syncs the log and records
  // the files as clean, from the calling thread.
  proto::result<void> close(const replica::db_fingerprint& at_close);

 private:
  replication_log(boost::asio::any_io_executor executor, replica::frame_log log, std::string db_path,
                  const replication_log_options& options);
  void append(const db::wal_chunk& chunk, std::uint64_t first_frame_no);
  void new_generation(std::uint64_t at);
  void note_schema_cookie(std::string_view page_one);
  void arm_trim();
  void trim();
  void publish();

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer trim_timer_;
  replica::frame_log log_;
  std::string db_path_;
  replication_log_options options_;
  replica::log_opening opening_;
  std::string opening_reason_;
  std::uint32_t cookie_floor_ = 0;  // on the strand after open()
  bool closed_ = false;
  bool timers_stopped_ = false;     // on the strand
  bool page_size_refused_ = false;  // said once: the database's pages are not libSQL's 4096 bytes
  std::atomic<std::uint64_t> pending_bytes_{0};
  std::atomic<std::uint64_t> stats_next_{0}, stats_first_{0}, stats_bytes_{0}, generations_{0}, dropped_{0},
      snapshots_{0};
};

}  // namespace monolite::actors
