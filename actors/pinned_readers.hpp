// pinned_readers — a small fixed set of read-only connections (SQLITE_OPEN_READONLY, query_only),
//   each lent to one Hrana stream for the life of its read transaction (BEGIN TRANSACTION
//   READONLY), so that no shared reader ever holds a snapshot between requests.
// Executor: connection k has a strand on executor k % n of those given (the reader pool's) and is
//   used only on it (asserted: common/strand_check.hpp).
// Replies: run() posts `done` to the caller's executor once `work` returned (or was skipped).
// Capacity: acquire() answers at once; when every connection is lent it returns nothing (the
//   stream answers TRANSACTION_BUSY) — there is no queue to fill.
// Timeout: a loan lasts at most `timeout`. A timer on the slot's strand then rolls back what the
//   connection holds and frees the slot, whether or not its stream ever comes back; later run()s
//   of that loan skip their work.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "actors/read_snapshots.hpp"
#include "db/connection.hpp"

namespace monolite::actors {

class pinned_readers {
 public:
  // One loan of one connection.
  struct loan {
    std::size_t slot = 0;
    std::uint64_t id = 0;    // unique per loan: a late timer or release of an ended loan does nothing
    std::int64_t since = 0;  // its read_snapshots stamp
  };

  static proto::result<std::unique_ptr<pinned_readers>> open(const std::vector<boost::asio::any_io_executor>& executors,
                                                             const db::connection_options& db_options,
                                                             std::size_t count, std::chrono::milliseconds timeout);

  // Thread-safe. A free connection, now lent to the caller until release() or the timeout.
  std::optional<loan> acquire();
  // Thread-safe. The caller's transaction on the loan has ended (nothing happens when the timeout
  // already ended the loan).
  void release(const loan& l);

  // Thread-safe; only by the holder of `l`. Runs `work` on the slot's strand, then posts
  // `done(true)`; `done(false)` without running it when the loan has timed out.
  void run(const loan& l, std::function<void(db::connection&)> work, boost::asio::any_io_executor reply_to,
           std::function<void(bool ran)> done);

  // Thread-safe: running and later statements fail with SQLITE_INTERRUPT (shutdown grace is over).
  void interrupt();
  // Thread-safe: cancels the timeout timers (before shutdown: a pending timer would keep its
  // executor's pool from joining); loans taken later have none.
  void stop();

  std::size_t size() const { return slots_.size(); }
  std::size_t lent() const;
  std::uint64_t timed_out() const { return timed_out_.load(std::memory_order_relaxed); }
  read_snapshots snapshots() const;

 private:
  struct slot {
    boost::asio::strand<boost::asio::any_io_executor> strand;
    db::connection conn;
    boost::asio::steady_timer timer;       // on the strand: the current loan's timeout
    std::atomic<std::uint64_t> holder{0};  // the loan id, 0 while free
    std::atomic<std::int64_t> since{0};    // the loan's stamp, 0 while free
  };
  void arm(slot* s, loan l);
  void expire(slot* s, const loan& l);
  // Frees the slot if `l` still holds it.
  void end_loan(slot* s, const loan& l);

  std::vector<std::unique_ptr<slot>> slots_;
  std::chrono::milliseconds timeout_{0};
  std::atomic<std::uint64_t> next_loan_{1};
  std::atomic<std::uint64_t> timed_out_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace monolite::actors
