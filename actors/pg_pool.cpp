#include "actors/pg_pool.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>

#include "common/log.hpp"
#include "common/strand_check.hpp"

namespace monolite::actors {
namespace asio = boost::asio;

namespace {

pg::error pool_error(const char* sqlstate, std::string message) {
  pg::error e = pg::connection_error(std::move(message));
  e.sqlstate = sqlstate;
  return e;
}

}  // namespace

pg_lease& pg_lease::operator=(pg_lease&& other) noexcept {
  if (this != &other) {
    give_back();
    pool_ = std::move(other.pool_);
    slot_ = other.slot_;
    conn_ = std::move(other.conn_);
  }
  return *this;
}

pg_lease::~pg_lease() { give_back(); }

void pg_lease::give_back() {
  if (!pool_ || !conn_) return;
  auto pool = std::move(pool_);
  asio::post(pool->strand_,
             [pool, slot = slot_, conn = std::move(conn_)]() mutable { pool->give_back(slot, std::move(conn)); });
}

std::shared_ptr<pg_pool> pg_pool::open(const std::vector<asio::any_io_executor>& executors, std::string conninfo,
                                       pg_pool_options options) {
  auto pool = std::shared_ptr<pg_pool>(new pg_pool(executors.at(0), std::move(conninfo), options));
  pool->slots_.resize(std::max<std::size_t>(options.size, 1));
  for (std::size_t i = 0; i < pool->slots_.size(); ++i) {
    pool->slots_[i].executor = executors[i % executors.size()];
    pool->slots_[i].retry = std::make_unique<asio::steady_timer>(pool->strand_);
  }
  asio::post(pool->strand_, [pool] {
    for (std::size_t i = 0; i < pool->slots_.size(); ++i)
      pool->connect_slot(i);
  });
  return pool;
}

pg_pool::pg_pool(asio::any_io_executor executor, std::string conninfo, pg_pool_options options)
    : strand_(asio::make_strand(executor)), conninfo_(std::move(conninfo)), options_(options), deadline_(strand_) {}

void pg_pool::acquire(asio::any_io_executor reply_to, acquire_handler handler) {
  asio::post(strand_, [self = shared_from_this(), w = waiter{std::move(reply_to), std::move(handler), {}}]() mutable {
    self->start_acquire(std::move(w));
  });
}

pg_pool_stats pg_pool::stats() const {
  return {open_count_.load(std::memory_order_acquire), idle_count_.load(std::memory_order_relaxed),
          waiting_count_.load(std::memory_order_relaxed), rejected_.load(std::memory_order_relaxed),
          not_ready_.load(std::memory_order_relaxed)};
}

void pg_pool::close(asio::any_io_executor reply_to, std::function<void()> done) {
  asio::post(strand_, [self = shared_from_this(), reply_to = std::move(reply_to), done = std::move(done)]() mutable {
    self->start_close(std::move(reply_to), std::move(done));
  });
}

void pg_pool::start_acquire(waiter w) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (closed_) return reply(w, pool_error(sqlstate_not_ready, "the PostgreSQL pool is closed"));
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i].now == phase::idle) return grant(i, std::move(w));
  }
  if (waiters_.size() >= options_.queue_capacity) {
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return reply(w, pool_error(sqlstate_overloaded, "every PostgreSQL connection is busy and the queue is full"));
  }
  w.deadline = std::chrono::steady_clock::now() + options_.connect_timeout;
  waiters_.push_back(std::move(w));
  publish_stats();
  if (waiters_.size() == 1) arm_deadline();
}

void pg_pool::connect_slot(std::size_t i) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto& s = slots_[i];
  s.now = phase::connecting;
  s.conn = pg::async_connection::create(asio::make_strand(s.executor));
  // Weak: the connection keeps this handler while it connects, and must not keep itself or the pool.
  s.conn->connect(conninfo_, {options_.connect_timeout, options_.statement_timeout},
                  [weak = weak_from_this(), i, conn = std::weak_ptr(s.conn)](pg::result<void> outcome) {
                    auto self = weak.lock();
                    if (!self) return;
                    asio::post(self->strand_,
                               [self, i, conn, outcome = std::move(outcome)] { self->on_connected(i, conn, outcome); });
                  });
}

void pg_pool::on_connected(std::size_t i, const std::weak_ptr<pg::async_connection>& conn,
                           const pg::result<void>& outcome) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto& s = slots_[i];
  if (s.conn != conn.lock() || s.now != phase::connecting) return;  // closed meanwhile
  if (!outcome) {
    if (s.backoff.count() == 0) log::warn("cannot connect to PostgreSQL", {{"error", outcome.error().describe()}});
    s.conn.reset();
    return retry_later(i);
  }
  s.backoff = std::chrono::milliseconds(0);
  make_idle(i);
}

// No spinning on a server that is down: each failed connect waits longer before the next.
void pg_pool::retry_later(std::size_t i) {
  auto& s = slots_[i];
  s.now = phase::backing_off;
  s.backoff = s.backoff.count() == 0 ? options_.backoff_first : std::min(s.backoff * 2, options_.backoff_max);
  publish_stats();
  arm_deadline();
  s.retry->expires_after(s.backoff);
  s.retry->async_wait([self = shared_from_this(), i](const boost::system::error_code& ec) {
    if (ec || self->closed_ || self->slots_[i].now != phase::backing_off) return;
    self->connect_slot(i);
  });
}

void pg_pool::make_idle(std::size_t i) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto& s = slots_[i];
  if (!waiters_.empty()) {
    auto w = std::move(waiters_.front());
    waiters_.pop_front();
    return grant(i, std::move(w));
  }
  s.now = phase::idle;
  // Weak: the connection keeps this callback while it waits, and must not keep itself or the pool
  // alive by it (a pool closed at shutdown would otherwise never be freed, nor its connections).
  s.conn->watch_idle([weak = weak_from_this(), i, conn = std::weak_ptr(s.conn)] {
    auto self = weak.lock();
    if (!self) return;
    asio::post(self->strand_, [self, i, conn] {
      if (auto lost = conn.lock()) self->on_lost(i, lost);
    });
  });
  publish_stats();
}

void pg_pool::grant(std::size_t i, waiter w) {
  auto& s = slots_[i];
  s.now = phase::leased;
  publish_stats();
  reply(w, pg_lease(shared_from_this(), i, s.conn));
}

void pg_pool::on_lost(std::size_t i, const std::shared_ptr<pg::async_connection>& conn) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto& s = slots_[i];
  if (s.conn != conn || s.now != phase::idle) return;  // leased since: its holder sees 08006
  log::warn("an idle PostgreSQL connection was lost; reconnecting", {});
  replace(i);
}

void pg_pool::give_back(std::size_t i, std::shared_ptr<pg::async_connection> conn) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto& s = slots_[i];
  if (s.conn != conn || s.now != phase::leased) return conn->close();
  if (closed_) {
    close_slot(s);
    return finish_close_when_done();
  }
  if (conn->broken()) return replace(i);
  if (conn->transaction_state() != pg::transaction_status::idle) return roll_back(i, std::move(conn));
  make_idle(i);
}

// A transaction left open (or failed) by the last holder ends before anyone else gets the connection.
void pg_pool::roll_back(std::size_t i, std::shared_ptr<pg::async_connection> conn) {
  pg::query_group rollback;
  rollback.queries.push_back({"ROLLBACK", {}, 0});
  conn->exec(std::move(rollback), [self = shared_from_this(), i, conn](pg::exec_result done) {
    asio::post(self->strand_, [self, i, conn, rolled_back = done.has_value()] {
      auto& s = self->slots_[i];
      if (s.conn != conn || s.now != phase::leased) return conn->close();
      if (self->closed_) {
        self->close_slot(s);
        return self->finish_close_when_done();
      }
      if (!rolled_back || conn->transaction_state() != pg::transaction_status::idle) return self->replace(i);
      self->make_idle(i);
    });
  });
}

// The connection of slot i is of no further use: close it and open another at once.
void pg_pool::replace(std::size_t i) {
  auto& s = slots_[i];
  if (s.conn) s.conn->close();
  s.conn.reset();
  connect_slot(i);
  publish_stats();
  arm_deadline();
}

// Waiters wait for a lease as long as it takes while a connection is up; while none is, each one
// waits at most the connect timeout.
void pg_pool::arm_deadline() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (waiters_.empty() || ready() || closed_) return;
  deadline_.expires_at(waiters_.front().deadline);
  deadline_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (!ec) self->expire_waiters();
  });
}

void pg_pool::expire_waiters() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (ready() || closed_) return;
  const auto now = std::chrono::steady_clock::now();
  while (!waiters_.empty() && waiters_.front().deadline <= now) {
    not_ready_.fetch_add(1, std::memory_order_relaxed);
    reply(waiters_.front(), pool_error(sqlstate_not_ready, "no PostgreSQL connection within the connect timeout"));
    waiters_.pop_front();
  }
  publish_stats();
  arm_deadline();
}

void pg_pool::start_close(asio::any_io_executor reply_to, std::function<void()> done) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  close_reply_to_ = std::move(reply_to);
  close_done_ = std::move(done);
  closed_ = true;
  deadline_.cancel();
  for (auto& w : waiters_)
    reply(w, pool_error(sqlstate_not_ready, "the PostgreSQL pool is closed"));
  waiters_.clear();
  for (auto& s : slots_) {
    if (s.now != phase::leased) close_slot(s);
  }
  finish_close_when_done();
}

// At shutdown: close() answers only once the connection ended, because serve() stops the threads
// its strand runs on right after.
void pg_pool::close_slot(slot& s) {
  s.retry->cancel();
  if (s.conn) {
    ++closing_;
    s.conn->close([self = shared_from_this()] {
      asio::post(self->strand_, [self] {
        --self->closing_;
        self->finish_close_when_done();
      });
    });
  }
  s.conn.reset();
  s.now = phase::closed;
  publish_stats();
}

void pg_pool::finish_close_when_done() {
  if (!close_done_ || closing_ > 0) return;
  for (const auto& s : slots_) {
    if (s.now != phase::closed) return;
  }
  asio::post(close_reply_to_, std::move(close_done_));
  close_done_ = nullptr;
  close_reply_to_ = {};
}

void pg_pool::publish_stats() {
  std::size_t open = 0;
  std::size_t idle = 0;
  for (const auto& s : slots_) {
    if (s.now == phase::idle || s.now == phase::leased) ++open;
    if (s.now == phase::idle) ++idle;
  }
  open_count_.store(open, std::memory_order_release);
  idle_count_.store(idle, std::memory_order_relaxed);
  waiting_count_.store(waiters_.size(), std::memory_order_relaxed);
}

void pg_pool::reply(waiter& w, pg::result<pg_lease> outcome) {
  asio::post(w.reply_to,
             [handler = std::move(w.handler), outcome = std::move(outcome)]() mutable { handler(std::move(outcome)); });
}

}  // namespace monolite::actors
