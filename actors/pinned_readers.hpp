// pinned_readers — a small fixed set of read-only connections (SQLITE_OPEN_READONLY, query_only),
//   each lent to one Hrana stream for the life of its read transaction (BEGIN TRANSACTION
//   READONLY), so that no shared reader ever holds a snapshot between requests.
// Executor: connection k has a strand on executor k % n of those given (the reader pool's) and is
//   used only on it (asserted: common/strand_check.hpp).
// Replies: run() posts `done` to the caller's executor once `work` returned.
// Capacity: acquire() answers at once; when every connection is lent it returns nothing (the
//   stream answers TRANSACTION_BUSY) — there is no queue to fill.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "db/connection.hpp"

namespace monolite::actors {

class pinned_readers {
 public:
  static proto::result<std::unique_ptr<pinned_readers>> open(const std::vector<boost::asio::any_io_executor>& executors,
                                                             const db::connection_options& db_options,
                                                             std::size_t count);

  // Thread-safe. A free connection, now lent to the caller until release().
  std::optional<std::size_t> acquire();
  // Thread-safe. The caller's transaction on `slot` has ended.
  void release(std::size_t slot);

  // Thread-safe; only by the holder of `slot`. Runs `work` on the slot's strand, then posts `done`.
  void run(std::size_t slot, std::function<void(db::connection&)> work, boost::asio::any_io_executor reply_to,
           std::function<void()> done);

  // Thread-safe: running and later statements fail with SQLITE_INTERRUPT (shutdown grace is over).
  void interrupt();

  std::size_t size() const { return slots_.size(); }
  std::size_t lent() const;

 private:
  struct slot {
    boost::asio::strand<boost::asio::any_io_executor> strand;
    db::connection conn;
    std::atomic<bool> taken{false};
  };
  std::vector<std::unique_ptr<slot>> slots_;
};

}  // namespace monolite::actors
