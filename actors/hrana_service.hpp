// hrana_service — Hrana streams over the actors: owns the stream registry and the pinned readers,
//   runs each pipeline's requests in order on the writer (leased per stream), a shared reader or
//   the stream's pinned reader, and expires idle streams.
// Executor: none of its own. A pipeline continues on the executor it was called from (the HTTP
//   session's) between hops; the expiry timer and `stopped_` live on a strand of the executor given
//   to open() (asserted: common/strand_check.hpp). A pipeline's `reply_to` is any serial executor,
//   which cannot be asked whether it is running: that rule stays unchecked.
// Replies: `done` is posted to (or called on) that executor once, after the last request.
// Limits: open streams (503 TOO_MANY_STREAMS beyond), stored SQL per stream, idle expiry, read
//   transactions at once (TRANSACTION_BUSY) and their duration (a timer rolls one back at the
//   transaction timeout and frees its connection, whether or not its stream returns); the writer
//   bounds write ones.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <functional>
#include <memory>

#include "actors/hrana_streams.hpp"
#include "actors/pinned_readers.hpp"
#include "actors/reader_pool.hpp"
#include "actors/writer_actor.hpp"

namespace monolite::actors::hrana {

struct service_limits {
  std::size_t max_streams = 1024;
  std::size_t max_stored_sql = 50;            // store_sql texts per stream
  std::size_t max_stored_sql_bytes = 100000;  // each (the server's --max-sql-length)
  std::chrono::milliseconds idle_expiry{10000};
  std::chrono::milliseconds transaction_timeout{5000};  // read transactions (the writer bounds write ones)
  std::size_t read_transactions = 16;                   // pinned read-only connections (--max-read-transactions)
};

class service : public std::enable_shared_from_this<service> {
 public:
  using done_handler = std::function<void(pipeline_outcome)>;

  static proto::result<std::shared_ptr<service>> open(std::shared_ptr<writer_actor> writer, reader_pool& readers,
                                                      const std::vector<boost::asio::any_io_executor>& reader_executors,
                                                      const db::connection_options& db_options,
                                                      const service_limits& limits,
                                                      boost::asio::any_io_executor timer_executor);

  // Thread-safe. Runs `requests` on the baton's stream (a new one without a baton); `home` is the
  // caller's preferred reader. `read_only`: the caller's token may only read.
  void pipeline(std::optional<stream_ref> baton, bool read_only, std::vector<ph::decoded_request> requests,
                boost::asio::any_io_executor reply_to, std::size_t home, done_handler done);

  // Thread-safe. Starts expiring idle streams (every quarter of the idle expiry); stop() ends that
  // (before shutdown: a pending timer would keep its executor's pool from joining).
  void start();
  void stop();
  void interrupt() { pinned_->interrupt(); }
  std::size_t open_streams() const { return registry_.size(); }
  std::size_t read_transactions() const { return pinned_->lent(); }
  // The read transactions' snapshots (each held from its BEGIN until its end or timeout).
  read_snapshots snapshots() const { return pinned_->snapshots(); }

 private:
  friend class pipeline_run;
  service(std::shared_ptr<writer_actor> writer, reader_pool& readers, std::unique_ptr<pinned_readers> pinned,
          const service_limits& limits, boost::asio::any_io_executor timer_executor);
  void sweep();
  // Rolls back what the stream holds open (lease, pinned reader), then posts `done` to `reply_to`.
  void end_transaction(const std::shared_ptr<stream>& s, boost::asio::any_io_executor reply_to,
                       std::function<void()> done);

  std::shared_ptr<writer_actor> writer_;
  reader_pool& readers_;
  std::unique_ptr<pinned_readers> pinned_;
  service_limits limits_;
  stream_registry registry_;
  boost::asio::strand<boost::asio::any_io_executor> timer_strand_;
  boost::asio::steady_timer timer_;  // on timer_strand_
  bool stopped_ = false;             // on timer_strand_
  std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace monolite::actors::hrana
