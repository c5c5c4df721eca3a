// pg_pool — owns up to `size` PostgreSQL connections (pg::async_connection), opened eagerly at
// open() and kept open: a lost one is reopened at once, then with backoff (100 ms doubling to 5 s).
// Executor: its own strand on the first executor given; every private member runs on it (asserted
//   with MONOLITE_ASSERT_ON_STRAND). Connection i runs on a strand of executor i % executors.size().
// Replies: acquire()'s handler is posted to the executor the caller named, with a lease or an error.
// Mailbox: a FIFO of at most `queue_capacity` waiters; past it acquire() is answered ML002 at once.
//   A waiter that had no connection to wait for during the connect timeout gets ML003 (not ready).
// Errors (pg::error, sqlstates of our own): ML002 overloaded (→ 503 OVERLOADED), ML003 not ready or
//   closed (→ 503 NOT_READY).
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "pg/async_connection.hpp"

namespace monolite::actors {

inline constexpr const char* sqlstate_overloaded = "ML002";
inline constexpr const char* sqlstate_not_ready = "ML003";

struct pg_pool_options {
  std::size_t size = 8;               // --pg-pool: connections at most (and at best)
  std::size_t queue_capacity = 1024;  // waiters for a connection at most
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{0};  // 0 = none
  std::chrono::milliseconds backoff_first{100};    // between failed connects: doubling, up to…
  std::chrono::milliseconds backoff_max{5000};
};

struct pg_pool_stats {
  std::size_t open = 0;  // connections up (idle or leased)
  std::size_t idle = 0;
  std::size_t waiting = 0;
  std::uint64_t rejected = 0;   // ML002: the queue was full
  std::uint64_t not_ready = 0;  // ML003: no connection within the connect timeout
};

class pg_pool;

// One connection, the caller's alone until the lease is destroyed (any thread). Back in the pool a
// connection in a transaction (or a failed one) is rolled back first; a broken one is replaced.
class pg_lease {
 public:
  pg_lease(pg_lease&& other) noexcept = default;
  pg_lease& operator=(pg_lease&& other) noexcept;
  pg_lease(const pg_lease&) = delete;
  pg_lease& operator=(const pg_lease&) = delete;
  ~pg_lease();

  pg::async_connection& connection() const { return *conn_; }
  const std::shared_ptr<pg::async_connection>& shared_connection() const { return conn_; }

 private:
  friend class pg_pool;
  pg_lease(std::shared_ptr<pg_pool> pool, std::size_t slot, std::shared_ptr<pg::async_connection> conn)
      : pool_(std::move(pool)), slot_(slot), conn_(std::move(conn)) {}
  void give_back();

  std::shared_ptr<pg_pool> pool_;
  std::size_t slot_ = 0;
  std::shared_ptr<pg::async_connection> conn_;
};

class pg_pool : public std::enable_shared_from_this<pg_pool> {
 public:
  using acquire_handler = std::function<void(pg::result<pg_lease>)>;

  // Starts connecting `options.size` connections; returns at once (ready() tells when one is up).
  static std::shared_ptr<pg_pool> open(const std::vector<boost::asio::any_io_executor>& executors, std::string conninfo,
                                       pg_pool_options options);

  // Thread-safe.
  void acquire(boost::asio::any_io_executor reply_to, acquire_handler handler);
  // Thread-safe: true while at least one connection is up (/readyz).
  bool ready() const { return open_count_.load(std::memory_order_acquire) > 0; }
  // Thread-safe.
  pg_pool_stats stats() const;
  // Thread-safe. Waiters get ML003; idle connections and retries end now, leased ones when given
  // back; then `done` is posted to `reply_to`. Nothing of the pool is left pending on the executors.
  void close(boost::asio::any_io_executor reply_to, std::function<void()> done);

 private:
  friend class pg_lease;
  enum class phase { connecting, idle, leased, backing_off, closed };
  struct slot {
    phase now = phase::connecting;
    std::shared_ptr<pg::async_connection> conn;
    boost::asio::any_io_executor executor;  // where its connections' strands live
    std::unique_ptr<boost::asio::steady_timer> retry;
    std::chrono::milliseconds backoff{0};
  };
  struct waiter {
    boost::asio::any_io_executor reply_to;
    acquire_handler handler;
    std::chrono::steady_clock::time_point deadline;
  };

  pg_pool(boost::asio::any_io_executor executor, std::string conninfo, pg_pool_options options);
  void start_acquire(waiter w);
  void connect_slot(std::size_t i);
  void on_connected(std::size_t i, const std::weak_ptr<pg::async_connection>& conn, const pg::result<void>& outcome);
  void retry_later(std::size_t i);
  void make_idle(std::size_t i);
  void grant(std::size_t i, waiter w);
  void on_lost(std::size_t i, const std::shared_ptr<pg::async_connection>& conn);
  void give_back(std::size_t i, std::shared_ptr<pg::async_connection> conn);
  void roll_back(std::size_t i, std::shared_ptr<pg::async_connection> conn);
  void replace(std::size_t i);
  void arm_deadline();
  void expire_waiters();
  void start_close(boost::asio::any_io_executor reply_to, std::function<void()> done);
  void close_slot(slot& s);
  void finish_close_when_done();
  void publish_stats();
  static void reply(waiter& w, pg::result<pg_lease> outcome);

  boost::asio::strand<boost::asio::any_io_executor> strand_;
  std::string conninfo_;
  pg_pool_options options_;
  std::vector<slot> slots_;
  std::deque<waiter> waiters_;
  boost::asio::steady_timer deadline_;  // the front waiter's, while no connection is up
  bool closed_ = false;
  std::size_t closing_ = 0;  // connections asked to close at shutdown that have not yet ended
  boost::asio::any_io_executor close_reply_to_;
  std::function<void()> close_done_;
  std::atomic<std::size_t> open_count_{0};
  std::atomic<std::size_t> idle_count_{0};
  std::atomic<std::size_t> waiting_count_{0};
  std::atomic<std::uint64_t> rejected_{0};
  std::atomic<std::uint64_t> not_ready_{0};
};

}  // namespace monolite::actors
