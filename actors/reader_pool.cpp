#include "actors/reader_pool.hpp"

#include <boost/asio/post.hpp>
#include <chrono>

#include "common/strand_check.hpp"
#include "db/statement.hpp"

namespace monolite::actors {
namespace asio = boost::asio;

proto::result<std::unique_ptr<reader_pool>> reader_pool::open(const std::vector<asio::any_io_executor>& executors,
                                                              const db::connection_options& db_options,
                                                              std::size_t mailbox_per_reader) {
  auto pool = std::unique_ptr<reader_pool>(new reader_pool());
  pool->mailbox_per_reader_ = mailbox_per_reader;
  auto options = db_options;
  options.read_only = true;
  for (const auto& executor : executors) {
    auto conn = db::connection::open(options);
    if (!conn) return conn.error();
    pool->readers_.push_back(std::unique_ptr<reader>(new reader{asio::make_strand(executor), std::move(*conn)}));
  }
  if (pool->readers_.empty()) return proto::internal_error("a reader pool needs at least one reader");
  return pool;
}

void reader_pool::interrupt() {
  for (auto& r : readers_)
    r->conn.interrupt();
}

read_snapshots reader_pool::snapshots() const {
  read_snapshots out;
  for (const auto& r : readers_)
    out.add(r->reading_since);
  return out;
}

read_stats reader_pool::stats() const {
  read_stats out;
  for (const auto& r : readers_) {
    out.durations += r->durations.counts();
    out.long_reads += r->long_reads.load(std::memory_order_relaxed);
  }
  return out;
}

void reader_pool::count_read(reader& r, std::chrono::steady_clock::duration took) const {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  r.durations.observe(static_cast<std::uint64_t>(us));
  if (long_read_us_ > 0 && us >= long_read_us_) r.long_reads.fetch_add(1, std::memory_order_relaxed);
}

bool reader_pool::try_take(reader* r) {
  if (r->in_flight.fetch_add(1, std::memory_order_acq_rel) < mailbox_per_reader_) return true;
  r->in_flight.fetch_sub(1, std::memory_order_acq_rel);
  return false;
}

reader_pool::reader* reader_pool::pick(std::size_t preferred) {
  // A few queued reads on the caller's own thread cost less than waking another thread.
  constexpr std::size_t backed_up = 8;
  const auto n = readers_.size();
  reader* home = readers_[preferred % n].get();
  if (home->in_flight.load(std::memory_order_relaxed) < backed_up && try_take(home)) return home;
  const auto first = next_.fetch_add(1, std::memory_order_relaxed) % n;
  reader* a = readers_[first].get();
  reader* b = readers_[(first + 1) % n].get();
  reader* best = a->in_flight.load(std::memory_order_relaxed) <= b->in_flight.load(std::memory_order_relaxed) ? a : b;
  return try_take(best) ? best : nullptr;
}

void reader_pool::submit(proto::statement statement, asio::any_io_executor reply_to, std::size_t preferred,
                         reply_handler reply) {
  reader* r = pick(preferred);
  if (!r) {
    rejected_full_.fetch_add(1, std::memory_order_relaxed);
    asio::post(reply_to, [reply = std::move(reply)] {
      reply(read_outcome{proto::overloaded("all readers are busy; retry shortly"), 0});
    });
    return;
  }
  asio::post(r->strand, [this, r, statement = std::move(statement), reply_to, reply = std::move(reply)]() mutable {
    MONOLITE_ASSERT_ON_STRAND(r->strand);  // the reader's connection is used on its strand only
    const auto start = std::chrono::steady_clock::now();
    r->reading_since.store(snapshot_stamp(start), std::memory_order_relaxed);
    read_outcome outcome{db::run_statement(r->conn, statement, {true, true}), 0};
    r->reading_since.store(0, std::memory_order_relaxed);
    const auto took = std::chrono::steady_clock::now() - start;
    count_read(*r, took);
    outcome.time_ms = std::chrono::duration<double, std::milli>(took).count();
    r->in_flight.fetch_sub(1, std::memory_order_acq_rel);
    asio::post(reply_to,
               [reply = std::move(reply), outcome = std::move(outcome)]() mutable { reply(std::move(outcome)); });
  });
}

void reader_pool::run(std::size_t preferred, std::function<void(db::connection&)> work, asio::any_io_executor reply_to,
                      std::function<void(proto::result<void>)> done) {
  reader* r = pick(preferred);
  if (!r) {
    rejected_full_.fetch_add(1, std::memory_order_relaxed);
    asio::post(reply_to, [done = std::move(done)] { done(proto::overloaded("all readers are busy; retry shortly")); });
    return;
  }
  asio::post(r->strand, [r, work = std::move(work), reply_to, done = std::move(done)]() mutable {
    MONOLITE_ASSERT_ON_STRAND(r->strand);
    r->reading_since.store(snapshot_stamp(snapshot_clock::now()), std::memory_order_relaxed);
    work(r->conn);
    r->reading_since.store(0, std::memory_order_relaxed);
    r->in_flight.fetch_sub(1, std::memory_order_acq_rel);
    asio::post(reply_to, [done = std::move(done)] { done(proto::result<void>{}); });
  });
}

}  // namespace monolite::actors
