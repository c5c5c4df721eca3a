#include "actors/pinned_readers.hpp"

#include <sqlite3.h>

#include <boost/asio/post.hpp>

#include "common/strand_check.hpp"

namespace monolite::actors {
namespace asio = boost::asio;

proto::result<std::unique_ptr<pinned_readers>> pinned_readers::open(const std::vector<asio::any_io_executor>& executors,
                                                                    const db::connection_options& db_options,
                                                                    std::size_t count,
                                                                    std::chrono::milliseconds timeout) {
  if (executors.empty()) return proto::internal_error("pinned readers need at least one executor");
  auto set = std::make_unique<pinned_readers>();
  set->timeout_ = timeout;
  auto options = db_options;
  options.read_only = true;
  for (std::size_t i = 0; i < count; ++i) {
    auto conn = db::connection::open(options);
    if (!conn) return conn.error();
    auto strand = asio::make_strand(executors[i % executors.size()]);
    set->slots_.push_back(std::unique_ptr<slot>(new slot{strand, std::move(*conn), asio::steady_timer(strand)}));
  }
  return set;
}

std::optional<pinned_readers::loan> pinned_readers::acquire() {
  const auto id = next_loan_.fetch_add(1, std::memory_order_relaxed);
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    slot* s = slots_[i].get();
    std::uint64_t expected = 0;
    if (!s->holder.compare_exchange_strong(expected, id, std::memory_order_acq_rel)) continue;
    const loan l{i, id, snapshot_stamp(snapshot_clock::now())};
    s->since.store(l.since, std::memory_order_relaxed);
    asio::post(s->strand, [this, s, l] { arm(s, l); });
    return l;
  }
  return std::nullopt;
}

// The stamp first, then the holder: a new loan can only start once the holder is 0, so it never
// finds its own stamp overwritten by the end of the one before.
void pinned_readers::end_loan(slot* s, const loan& l) {
  auto since = l.since;
  auto id = l.id;
  if (s->holder.load(std::memory_order_acquire) != l.id) return;
  s->since.compare_exchange_strong(since, 0, std::memory_order_relaxed);
  s->holder.compare_exchange_strong(id, 0, std::memory_order_acq_rel);
}

void pinned_readers::release(const loan& l) { end_loan(slots_.at(l.slot).get(), l); }

std::size_t pinned_readers::lent() const {
  std::size_t n = 0;
  for (const auto& s : slots_)
    n += s->holder.load(std::memory_order_relaxed) != 0 ? 1 : 0;
  return n;
}

read_snapshots pinned_readers::snapshots() const {
  read_snapshots out;
  for (const auto& s : slots_)
    out.add(s->since);
  return out;
}

void pinned_readers::arm(slot* s, loan l) {
  MONOLITE_ASSERT_ON_STRAND(s->strand);  // the timer lives on the slot's strand
  if (stopped_.load(std::memory_order_acquire) || s->holder.load(std::memory_order_acquire) != l.id) return;
  s->timer.expires_after(timeout_);  // cancels the timer of an earlier loan, if still pending
  s->timer.async_wait([this, s, l](boost::system::error_code ec) {
    if (!ec) expire(s, l);
  });
}

// The loan outlived the timeout: its transaction is rolled back now, not when its stream returns.
void pinned_readers::expire(slot* s, const loan& l) {
  MONOLITE_ASSERT_ON_STRAND(s->strand);
  if (s->holder.load(std::memory_order_acquire) != l.id) return;  // released meanwhile
  if (!sqlite3_get_autocommit(s->conn.handle())) (void)s->conn.exec("ROLLBACK");
  timed_out_.fetch_add(1, std::memory_order_relaxed);
  end_loan(s, l);
}

void pinned_readers::run(const loan& l, std::function<void(db::connection&)> work, asio::any_io_executor reply_to,
                         std::function<void(bool)> done) {
  slot* s = slots_.at(l.slot).get();
  asio::post(s->strand, [s, id = l.id, work = std::move(work), reply_to, done = std::move(done)]() mutable {
    MONOLITE_ASSERT_ON_STRAND(s->strand);  // the slot's connection is used on its strand only
    // Only the timer ends a loan on this strand; once it has, the connection may be another's.
    const bool held = s->holder.load(std::memory_order_acquire) == id;
    if (held) work(s->conn);
    asio::post(reply_to, [done = std::move(done), held] { done(held); });
  });
}

void pinned_readers::interrupt() {
  for (auto& s : slots_)
    s->conn.interrupt();
}

void pinned_readers::stop() {
  stopped_.store(true, std::memory_order_release);
  for (auto& s : slots_)
    asio::post(s->strand, [p = s.get()] {
      MONOLITE_ASSERT_ON_STRAND(p->strand);
      p->timer.cancel();
    });
}

}  // namespace monolite::actors
