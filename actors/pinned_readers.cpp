#include "actors/pinned_readers.hpp"

#include <boost/asio/post.hpp>

#include "common/strand_check.hpp"

namespace monolite::actors {
namespace asio = boost::asio;

proto::result<std::unique_ptr<pinned_readers>> pinned_readers::open(const std::vector<asio::any_io_executor>& executors,
                                                                    const db::connection_options& db_options,
                                                                    std::size_t count) {
  if (executors.empty()) return proto::internal_error("pinned readers need at least one executor");
  auto set = std::make_unique<pinned_readers>();
  auto options = db_options;
  options.read_only = true;
  for (std::size_t i = 0; i < count; ++i) {
    auto conn = db::connection::open(options);
    if (!conn) return conn.error();
    set->slots_.push_back(
        std::unique_ptr<slot>(new slot{asio::make_strand(executors[i % executors.size()]), std::move(*conn)}));
  }
  return set;
}

std::optional<std::size_t> pinned_readers::acquire() {
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    bool expected = false;
    if (slots_[i]->taken.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return i;
  }
  return std::nullopt;
}

void pinned_readers::release(std::size_t slot) { slots_.at(slot)->taken.store(false, std::memory_order_release); }

std::size_t pinned_readers::lent() const {
  std::size_t n = 0;
  for (const auto& s : slots_)
    n += s->taken.load(std::memory_order_relaxed) ? 1 : 0;
  return n;
}

void pinned_readers::run(std::size_t index, std::function<void(db::connection&)> work, asio::any_io_executor reply_to,
                         std::function<void()> done) {
  slot* s = slots_.at(index).get();
  asio::post(s->strand, [s, work = std::move(work), reply_to, done = std::move(done)]() mutable {
    MONOLITE_ASSERT_ON_STRAND(s->strand);  // the slot's connection is used on its strand only
    work(s->conn);
    asio::post(reply_to, std::move(done));
  });
}

void pinned_readers::interrupt() {
  for (auto& s : slots_)
    s->conn.interrupt();
}

}  // namespace monolite::actors
