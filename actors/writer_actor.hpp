// writer_actor — owns THE read-write connection; nothing else ever writes the database.
// Executor: its own strand on the database thread pool; every private member runs on that strand
//   (checked by MONOLITE_ASSERT_ON_STRAND in debug and sanitizer builds: common/strand_check.hpp).
// Replies: each request's completion is posted to the executor the caller named, only after the
//   COMMIT of its group returned (group commit: all queued requests share one transaction).
// Mailbox: at most `mailbox_capacity` requests in flight; past that submit() answers 503 OVERLOADED
//   at once. After close() every submit() is answered 503 NOT_READY.
// Replication (attach_replicator): every commit's new WAL frames go to the replicator from the
//   WAL hook; a checkpoint waits until the replicas hold the frames it would let SQLite reuse;
//   with --replica-sync a reply also waits until its commit is in every replica. The same frames,
//   numbered, go to a frame_sink (attach_frame_sink: the replication log replicas follow).
// Leases (run_exclusive, writer_lease.cpp): work that leaves a transaction open leases the writer
//   to its lease id; group commits and other ids then wait (still counted in the mailbox) until
//   that id ends the transaction or `transaction_timeout` passes, when the writer rolls it back.
// Read-only mode (set_read_only, writer_read_only.cpp): the strand decides which writes got in
//   before the switch; every later submit() and run_exclusive() (but the lease holder's) is 503
//   READ_ONLY. Process state only: a new writer serves writes again.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "actors/replication_types.hpp"
#include "actors/write_transaction.hpp"
#include "actors/writer_lease.hpp"
#include "common/histogram.hpp"
#include "db/connection.hpp"

struct sqlite3;

namespace monolite::actors {

class replicator;
struct resume_plan;

struct writer_options {
  std::size_t mailbox_capacity = 4096;
  std::size_t max_group = 1024;                         // requests in one transaction at most
  int passive_checkpoint_pages = 1000;                  // PASSIVE checkpoint once the WAL holds this many
  int truncate_checkpoint_pages = 100000;               // TRUNCATE (waits for readers) past this many
  std::chrono::milliseconds idle_checkpoint{1000};      // PASSIVE when no commit for this long
  std::chrono::milliseconds transaction_timeout{5000};  // longest lease (open transaction)
};

// Where the writer stands after set_read_only() took effect.
struct read_only_state {
  bool read_only = false;
  std::uint64_t commits = 0;  // transactions that wrote, committed since the writer opened
  int wal_frames = 0;         // frames in the WAL now (since the last full checkpoint)
};
using read_only_handler = std::function<void(read_only_state)>;

struct writer_stats {
  std::uint64_t commits = 0;        // group transactions committed
  std::uint64_t requests = 0;       // requests answered
  std::uint64_t rejected_full = 0;  // 503 because the mailbox was full
  std::uint64_t checkpoints = 0;
  std::size_t queue_depth = 0;  // requests in flight now
  // What says how close the one writer is to its limit (docs/operations.md, "When to move").
  std::uint64_t write_statements = 0;        // statements of the requests committed
  std::uint64_t busy_microseconds = 0;       // inside group-commit transactions (BEGIN to COMMIT returned)
  std::uint64_t checkpoints_incomplete = 0;  // left frames in the WAL (readers still needed them) or busy
  histogram_counts commit_durations;         // microseconds per committed group, BEGIN to COMMIT returned
  histogram_counts group_sizes;              // requests per committed group
  bool read_only = false;                    // writes are refused (set_read_only)
};

class writer_actor : public std::enable_shared_from_this<writer_actor> {
 public:
  using reply_handler = std::function<void(write_outcome)>;

  static proto::result<std::shared_ptr<writer_actor>> open(boost::asio::any_io_executor executor,
                                                           const db::connection_options& db_options,
                                                           const writer_options& options);

  // Thread-safe. `reply` runs on `reply_to`.
  void submit(proto::write_request request, boost::asio::any_io_executor reply_to, reply_handler reply);

  // Thread-safe. Answers what is queued, checkpoints (TRUNCATE), closes the connection, then
  // posts `done` to `done_on`.
  void close(boost::asio::any_io_executor done_on, std::function<void()> done);

  // Thread-safe: the running statement and everything still queued fail with 504 SQLITE_INTERRUPT
  // instead of running (the shutdown grace period is over). Nothing half-done is committed.
  void interrupt();

  writer_stats stats() const;

  // Thread-safe. `on`: from now on writes are refused; `done` runs on `reply_to` once every write
  // accepted before has committed or failed and no lease is held (a lease ends by its holder or
  // by the transaction timeout). Off: writes are served again at once.
  void set_read_only(bool on, boost::asio::any_io_executor reply_to, read_only_handler done);
  bool read_only() const { return read_only_flag_.load(std::memory_order_acquire); }
  // Transactions that wrote (group commits and lease work alike), committed since the writer opened.
  std::uint64_t write_commits() const { return write_commits_.load(std::memory_order_acquire); }

  // Thread-safe; before serving. Starts following the WAL for `rep` as `plan` says, then posts
  // `done` (an error when the WAL cannot be read) to `done_on`.
  void attach_replicator(std::shared_ptr<replicator> rep, const resume_plan& plan, boost::asio::any_io_executor done_on,
                         std::function<void(proto::result<void>)> done);
  // Thread-safe; before serving, after attach_replicator. Every later commit's frames go to
  // `sink`, numbered from `next_frame_no`; then `done` (an error when the WAL cannot be read) is
  // posted to `done_on`.
  void attach_frame_sink(std::shared_ptr<frame_sink> sink, std::uint64_t next_frame_no,
                         boost::asio::any_io_executor done_on, std::function<void(proto::result<void>)> done);
  // Thread-safe: one past the number of the last frame given to the frame_sink (0 without one).
  std::uint64_t next_frame_no() const { return next_frame_no_published_.load(std::memory_order_acquire); }
  // Thread-safe: opens a read transaction at the current position, between two commits.
  void pin_snapshot(pin_handler handler);

  // Thread-safe. Runs `work` on the strand with the write connection between group commits, then
  // posts `done` to `reply_to`; a transaction left open leases the writer to `id` (see above).
  void run_exclusive(lease_id id, std::function<void(db::connection&, lease_state)> work,
                     boost::asio::any_io_executor reply_to, std::function<void(lease_reply)> done);

 private:
  struct job {
    proto::write_request request;
    boost::asio::any_io_executor reply_to;
    reply_handler reply;
  };

  writer_actor(boost::asio::any_io_executor executor, db::connection conn, const writer_options& options);
  void enqueue(job j);
  void drain();
  void answer(std::vector<job>& group, std::vector<write_outcome>& outcomes);
  void record_group(const std::vector<job>& group, const std::vector<write_outcome>& outcomes,
                    std::chrono::steady_clock::duration took);
  void send_replies(std::vector<job>& group, std::vector<write_outcome>& outcomes);
  void answer_after_shipping(std::vector<job> group, std::vector<write_outcome> outcomes);
  void capture_commit(int wal_frames);
  void gated_checkpoint(int mode);
  void close_now(boost::asio::any_io_executor done_on, std::function<void()> done);
  void checkpoint_if_due();
  void checkpoint(int mode);
  void arm_idle_timer();
  static int on_wal_commit(void* self, ::sqlite3*, const char*, int pages);
  // Writer lease (writer_lease.cpp).
  struct exclusive_job;
  struct lease_book;
  void start_exclusive(exclusive_job j);
  void begin_lease(lease_id id);
  void end_lease(bool timed_out);
  bool leased() const;
  void abandon_lease();
  // Read-only mode (writer_read_only.cpp).
  struct read_only_waiter {
    boost::asio::any_io_executor reply_to;
    read_only_handler done;
  };
  void switch_read_only(bool on, read_only_waiter waiter);
  void settle_read_only();
  bool refuse_if_read_only(job& j);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  boost::asio::steady_timer idle_timer_;
  db::connection conn_;
  writer_options options_;
  std::vector<job> pending_;
  bool drain_scheduled_ = false;
  bool closed_ = false;
  int wal_pages_ = 0;
  // Snapshot pins handed out and not yet destroyed (they end on the shipper's snapshot thread).
  std::shared_ptr<std::atomic<int>> pins_alive_ = std::make_shared<std::atomic<int>>(0);
  bool wal_backfilled_ = false;      // the last checkpoint copied every frame into the database
  bool checkpoint_waiting_ = false;  // a checkpoint waits for the replicas
  std::unique_ptr<db::wal_tail> tail_;
  std::shared_ptr<replicator> replicator_;
  std::shared_ptr<frame_sink> frame_sink_;
  std::uint64_t next_frame_no_ = 0;  // the frame_sink's numbering
  std::atomic<std::uint64_t> next_frame_no_published_{0};
  std::uint64_t commits_at_last_tick_ = 0;
  std::shared_ptr<lease_book> lease_;      // created on the strand by the first run_exclusive
  std::atomic<lease_id> lease_holder_{0};  // mirrors the holder for run_exclusive's mailbox check
  bool read_only_ = false;                 // on the strand: the gate
  std::vector<read_only_waiter> read_only_waiters_;
  std::atomic<bool> read_only_flag_{false};      // mirrors read_only_: submit() refuses early, stats
  std::atomic<std::uint64_t> write_commits_{0};  // counted by the WAL hook, on the strand

  std::atomic<std::size_t> in_flight_{0};
  std::atomic<bool> closing_{false};
  std::atomic<std::uint64_t> commits_{0}, requests_{0}, rejected_full_{0}, checkpoints_{0};
  std::atomic<std::uint64_t> write_statements_{0}, busy_us_{0}, checkpoints_incomplete_{0};
  histogram commit_durations_{latency_bounds};
  histogram group_sizes_{group_size_bounds};
};

}  // namespace monolite::actors
