// pg_hrana — Hrana streams on the PostgreSQL engine: owns the stream registry. A stream holds a
//   pooled connection while its transaction is open (from BEGIN to COMMIT or ROLLBACK); otherwise
//   each statement takes one from the pool for its own round trip.
// Executor: none for pipelines — one continues on the caller's `reply_to` (serial) between round
//   trips; the sweep timer and `stopped_` live on a strand of the executor given to open() (asserted).
// Replies: `done` is posted to (or called on) `reply_to` once, after the last request.
// Limits: open streams (503 TOO_MANY_STREAMS), stored SQL, idle expiry, the transaction timeout
//   (the sweep rolls back a transaction older than it; the stream's next statement then fails with
//   TRANSACTION_TIMEOUT) and the pool's queue (503 OVERLOADED).
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <memory>

#include "actors/hrana_exec.hpp"
#include "actors/hrana_requests.hpp"
#include "actors/hrana_streams.hpp"
#include "actors/pg_pool.hpp"
#include "actors/pg_statements.hpp"
#include "actors/sql_outcomes.hpp"

namespace monolite::actors {

struct pg_hrana_limits {
  std::size_t max_streams = 1024;
  std::size_t max_stored_sql = 50;
  std::size_t max_stored_sql_bytes = 100000;
  std::chrono::milliseconds idle_expiry{10000};
  std::chrono::milliseconds transaction_timeout{5000};
};

struct pg_stream {
  std::uint64_t id = 0;
  hrana::stream_settings settings;  // read_only: the token's role is read
  hrana::stored_sqls sqls;
  std::shared_ptr<pg_lease> held;  // the connection while a transaction is open
  std::chrono::steady_clock::time_point held_since;
  bool timed_out = false;  // the sweep rolled the transaction back; the next statement is told
  bool closed = false;
  // Owned by the registry (under its mutex).
  std::uint64_t seq = 0;
  bool busy = false;
  std::chrono::steady_clock::time_point last_used;
};

class pg_hrana : public std::enable_shared_from_this<pg_hrana> {
 public:
  using done_handler = std::function<void(hrana::pipeline_outcome)>;
  static std::shared_ptr<pg_hrana> open(std::shared_ptr<pg_pool> pool, const pg_sql_limits& sql_limits,
                                        const pg_hrana_limits& limits, boost::asio::any_io_executor timer_executor);
  // Thread-safe. As hrana::service::pipeline.
  void pipeline(std::optional<hrana::stream_ref> baton, bool read_only,
                std::vector<proto::hrana::decoded_request> requests, boost::asio::any_io_executor reply_to,
                done_handler done);
  // Thread-safe: the sweep (idle expiry, transaction timeout) runs every quarter of the idle expiry
  // from start() until stop().
  void start();
  // Also ends streams whose pipeline is still running when it ends: their connections go back.
  void stop();
  // Thread-safe: later statements fail with SQLITE_INTERRUPT instead of running.
  void interrupt() { interrupted_.store(true, std::memory_order_release); }
  std::size_t open_streams() const { return registry_.size(); }

 private:
  friend class pg_pipeline_run;
  pg_hrana(std::shared_ptr<pg_pool> pool, const pg_sql_limits& sql_limits, const pg_hrana_limits& limits,
           boost::asio::any_io_executor timer_executor);
  void arm();
  void sweep();

  std::shared_ptr<pg_pool> pool_;
  pg_sql_limits sql_limits_;
  pg_hrana_limits limits_;
  hrana::basic_stream_registry<pg_stream> registry_;
  boost::asio::strand<boost::asio::any_io_executor> timer_strand_;
  boost::asio::steady_timer timer_;  // on timer_strand_
  bool stopped_ = false;             // on timer_strand_
  std::atomic<std::uint64_t> next_id_{1};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> interrupted_{false};
};

}  // namespace monolite::actors
