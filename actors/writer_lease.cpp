// The writer lease: run_exclusive() and what it does to the writer's queue. A call whose work
// leaves a transaction open keeps the write connection for its lease id; until that id ends the
// transaction (or the timeout rolls it back) group commits stay in `pending_` and calls of other
// ids wait in `waiting`, in arrival order. Everything here runs on the writer's strand except
// run_exclusive() itself.
#include <sqlite3.h>

#include <boost/asio/post.hpp>
#include <deque>
#include <unordered_set>

#include "actors/writer_lease.hpp"

#include "actors/writer_actor.hpp"
#include "common/strand_check.hpp"

namespace monolite::actors {
namespace asio = boost::asio;

struct writer_actor::exclusive_job {
  lease_id id = 0;
  std::function<void(db::connection&, lease_state)> work;
  asio::any_io_executor reply_to;
  std::function<void(lease_reply)> done;
};

struct writer_actor::lease_book {
  explicit lease_book(const asio::strand<asio::any_io_executor>& strand) : timer(strand) {}
  lease_id holder = 0;
  std::uint64_t generation = 0;  // one per lease, so a timer of an ended lease does nothing
  asio::steady_timer timer;
  std::deque<exclusive_job> waiting;
  std::unordered_set<lease_id> expired;  // rolled back by the timeout; told on their next call
};

namespace {

void reply(asio::any_io_executor to, std::function<void(lease_reply)> done, lease_reply r) {
  asio::post(to, [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
}

// PRAGMA foreign_keys is the one connection setting lease work may change (Hrana's migrate() turns
// it off around a transaction); everyone else gets the configured value back.
void restore_settings(db::connection& conn) {
  (void)conn.exec(conn.options().foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
}

}  // namespace

void writer_actor::run_exclusive(lease_id id, std::function<void(db::connection&, lease_state)> work,
                                 asio::any_io_executor reply_to, std::function<void(lease_reply)> done) {
  if (closing_.load(std::memory_order_acquire))
    return reply(reply_to, std::move(done), {proto::not_ready("the server is shutting down"), false});
  // The holder's own calls always get in: otherwise a full mailbox would leave it unable to commit.
  const bool holder = id != 0 && lease_holder_.load(std::memory_order_acquire) == id;
  if (in_flight_.fetch_add(1, std::memory_order_acq_rel) >= options_.mailbox_capacity && !holder) {
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    rejected_full_.fetch_add(1, std::memory_order_relaxed);
    return reply(reply_to, std::move(done), {proto::overloaded("the writer's queue is full; retry shortly"), false});
  }
  asio::post(strand_, [self = shared_from_this(),
                       j = exclusive_job{id, std::move(work), std::move(reply_to), std::move(done)}]() mutable {
    self->start_exclusive(std::move(j));
  });
}

bool writer_actor::leased() const { return lease_ && lease_->holder != 0; }

void writer_actor::start_exclusive(exclusive_job j) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (!lease_) lease_ = std::make_shared<lease_book>(strand_);
  if (closed_) {
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    return reply(j.reply_to, std::move(j.done), {proto::not_ready("the server is shutting down"), false});
  }
  // Read-only: only the holder may go on (to commit what it began); an expired id is told so.
  if (read_only_ && lease_->holder != j.id && !lease_->expired.contains(j.id)) {
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    return reply(j.reply_to, std::move(j.done),
                 {proto::read_only("the server is read-only; writes are refused"), false});
  }
  if (lease_->holder != 0 && lease_->holder != j.id) {
    lease_->waiting.push_back(std::move(j));
    return;
  }
  auto state = lease_->holder == j.id ? lease_state::held : lease_state::none;
  if (state == lease_state::none && lease_->expired.erase(j.id) > 0) state = lease_state::expired;
  j.work(conn_, state);
  const bool open = !sqlite3_get_autocommit(conn_.handle());
  if (open && lease_->holder != j.id) begin_lease(j.id);
  if (!open) {
    restore_settings(conn_);
    if (lease_->holder == j.id) end_lease(false);
    checkpoint_if_due();
  }
  requests_.fetch_add(1, std::memory_order_relaxed);
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  reply(j.reply_to, std::move(j.done), {{}, open});
}

void writer_actor::begin_lease(lease_id id) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  lease_->holder = id;
  lease_holder_.store(id, std::memory_order_release);
  const auto generation = ++lease_->generation;
  lease_->timer.expires_after(options_.transaction_timeout);
  lease_->timer.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    if (ec || self->closed_ || !self->lease_ || self->lease_->generation != generation || !self->leased()) return;
    self->end_lease(true);
  });
}

// Frees the writer: group commits that waited drain first, then the waiting calls run in their
// order (the first to open a transaction leases the writer again and the rest wait anew).
void writer_actor::end_lease(bool timed_out) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (timed_out) {
    if (!sqlite3_get_autocommit(conn_.handle())) (void)conn_.exec("ROLLBACK");
    restore_settings(conn_);
    lease_->expired.insert(lease_->holder);
  }
  lease_->holder = 0;
  lease_holder_.store(0, std::memory_order_release);
  lease_->timer.cancel();
  if (!pending_.empty() && !drain_scheduled_) {
    drain_scheduled_ = true;
    asio::post(strand_, [self = shared_from_this()] { self->drain(); });
  }
  auto waiting = std::move(lease_->waiting);
  lease_->waiting.clear();
  for (auto& j : waiting)
    asio::post(strand_,
               [self = shared_from_this(), j = std::move(j)]() mutable { self->start_exclusive(std::move(j)); });
  settle_read_only();  // with group commits left, the drain just posted settles instead
}

// On close: the open transaction is rolled back and the calls still waiting are told the server
// is shutting down.
void writer_actor::abandon_lease() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (!lease_) return;
  if (lease_->holder != 0 && !sqlite3_get_autocommit(conn_.handle())) (void)conn_.exec("ROLLBACK");
  lease_->holder = 0;
  lease_holder_.store(0, std::memory_order_release);
  lease_->timer.cancel();
  lease_->expired.clear();
  for (auto& j : lease_->waiting) {
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    reply(j.reply_to, std::move(j.done), {proto::not_ready("the server is shutting down"), false});
  }
  lease_->waiting.clear();
}

}  // namespace monolite::actors
