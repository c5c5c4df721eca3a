// reader_pool — N reader actors; each owns one read-only connection (SQLITE_OPEN_READONLY,
// query_only) and a strand on the executor it was given (its own thread, or an HTTP thread); the
// connection is used only on that strand (asserted: common/strand_check.hpp).
// Replies: the completion is posted to the executor the caller named.
// Mailbox: each reader takes at most `mailbox_per_reader` requests in flight. A request goes to its
//   preferred reader (the one on the caller's thread) while that one is not backed up, otherwise to
//   the less loaded of two neighbours; when both are full it is answered 503 OVERLOADED at once.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "actors/read_snapshots.hpp"
#include "actors/sql_outcomes.hpp"
#include "common/histogram.hpp"
#include "db/connection.hpp"
#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"

namespace monolite::actors {

// Summed over the readers: how long the statements of submit() ran, and how many ran long.
struct read_stats {
  histogram_counts durations;  // microseconds per statement
  std::uint64_t long_reads = 0;
};

class reader_pool {
 public:
  using reply_handler = std::function<void(read_outcome)>;

  // One reader per executor given.
  static proto::result<std::unique_ptr<reader_pool>> open(const std::vector<boost::asio::any_io_executor>& executors,
                                                          const db::connection_options& db_options,
                                                          std::size_t mailbox_per_reader);

  // Thread-safe. A statement that would write is answered 400 READONLY. `preferred` is a reader
  // index (taken modulo the pool size), e.g. the one sharing the caller's thread.
  void submit(proto::statement statement, boost::asio::any_io_executor reply_to, std::size_t preferred,
              reply_handler reply);

  // Thread-safe. Runs `work` with a reader's connection (picked as for submit()), then posts `done`
  // to `reply_to`; when every reader is full, `done` gets 503 OVERLOADED and `work` never runs.
  void run(std::size_t preferred, std::function<void(db::connection&)> work, boost::asio::any_io_executor reply_to,
           std::function<void(proto::result<void>)> done);

  // Thread-safe: running and later reads fail with 504 SQLITE_INTERRUPT (shutdown grace is over).
  void interrupt();

  std::size_t size() const { return readers_.size(); }
  std::uint64_t rejected_full() const { return rejected_full_.load(std::memory_order_relaxed); }
  // Thread-safe: the statements running now (each holds a read snapshot while it runs).
  read_snapshots snapshots() const;
  // Before serving: a statement running at least this long counts as a long read (0: none does).
  void set_long_read_threshold(std::chrono::microseconds threshold) { long_read_us_ = threshold.count(); }
  // Thread-safe.
  read_stats stats() const;

 private:
  struct reader {
    boost::asio::strand<boost::asio::any_io_executor> strand;
    db::connection conn;
    std::atomic<std::size_t> in_flight{0};
    std::atomic<std::int64_t> reading_since{0};  // a stamp while work runs; written on the strand only
    // One per reader, so readers on different threads never share the cache lines they count in.
    histogram durations{latency_bounds};
    std::atomic<std::uint64_t> long_reads{0};
  };
  void count_read(reader& r, std::chrono::steady_clock::duration took) const;
  reader* pick(std::size_t preferred);
  bool try_take(reader* r);

  std::vector<std::unique_ptr<reader>> readers_;
  std::size_t mailbox_per_reader_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<std::uint64_t> rejected_full_{0};
  std::int64_t long_read_us_ = 0;
};

}  // namespace monolite::actors
