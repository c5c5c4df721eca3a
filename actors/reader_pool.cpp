#include "actors/reader_pool.hpp"

#include <boost/asio/post.hpp>
#include <chrono>

#include "db/statement.hpp"

namespace monolite::actors {
namespace asio = boost::asio;

proto::result<std::unique_ptr<reader_pool>> reader_pool::open(asio::any_io_executor executor,
                                                               const db::connection_options& db_options,
                                                               std::size_t readers,
                                                               std::size_t mailbox_per_reader) {
  auto pool = std::unique_ptr<reader_pool>(new reader_pool());
  pool->mailbox_per_reader_ = mailbox_per_reader;
  auto options = db_options;
  options.read_only = true;
  for (std::size_t i = 0; i < std::max<std::size_t>(readers, 1); ++i) {
    auto conn = db::connection::open(options);
    if (!conn) return conn.error();
    pool->readers_.push_back(
        std::unique_ptr<reader>(new reader{asio::make_strand(executor), std::move(*conn)}));
  }
  return pool;
}

void reader_pool::interrupt() {
  for (auto& r : readers_) r->conn.interrupt();
}

reader_pool::reader* reader_pool::pick() {
  const auto n = readers_.size();
  const auto first = next_.fetch_add(1, std::memory_order_relaxed) % n;
  reader* a = readers_[first].get();
  reader* b = readers_[(first + 1) % n].get();
  reader* best = a->in_flight.load(std::memory_order_relaxed) <= b->in_flight.load(std::memory_order_relaxed) ? a : b;
  if (best->in_flight.fetch_add(1, std::memory_order_acq_rel) < mailbox_per_reader_) return best;
  best->in_flight.fetch_sub(1, std::memory_order_acq_rel);
  return nullptr;
}

void reader_pool::submit(proto::statement statement, asio::any_io_executor reply_to, reply_handler reply) {
  reader* r = pick();
  if (!r) {
    rejected_full_.fetch_add(1, std::memory_order_relaxed);
    asio::post(reply_to, [reply = std::move(reply)] {
      reply(read_outcome{proto::overloaded("all readers are busy; retry shortly"), 0});
    });
    return;
  }
  asio::post(r->strand, [r, statement = std::move(statement), reply_to, reply = std::move(reply)]() mutable {
    const auto start = std::chrono::steady_clock::now();
    read_outcome outcome{db::run_statement(r->conn, statement, {true, true}), 0};
    outcome.time_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    r->in_flight.fetch_sub(1, std::memory_order_acq_rel);
    asio::post(reply_to, [reply = std::move(reply), outcome = std::move(outcome)]() mutable {
      reply(std::move(outcome));
    });
  });
}

}  // namespace monolite::actors
