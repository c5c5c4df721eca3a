#include "actors/replicator.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.hpp"
#include "replica/resume.hpp"

namespace monolite::actors {
namespace asio = boost::asio;

pinned_snapshot::~pinned_snapshot() {
  if (reader) reader->close();  // closing ends the read transaction
  if (pins_alive) pins_alive->fetch_sub(1, std::memory_order_acq_rel);
}

proto::result<std::vector<std::shared_ptr<replica::sealed_store>>> open_replica_stores(
    const std::vector<std::string>& urls, const replica::seal::keyring& keys) {
  std::vector<std::shared_ptr<replica::sealed_store>> stores;
  for (const auto& url : urls) {
    auto store = replica::open_sealed_store(url, keys);
    if (!store) return proto::api_error{2, "BAD_REPLICA", "--replica " + url + ": " + store.error().message};
    stores.push_back(std::move(*store));
  }
  return stores;
}

proto::result<std::shared_ptr<replicator>> replicator::open(const std::vector<std::string>& urls,
                                                            const replica_options& options,
                                                            asio::any_io_executor timers,
                                                            const replica::seal::keyring& keys) {
  auto stores = open_replica_stores(urls, keys);
  if (!stores) return stores.error();
  return std::shared_ptr<replicator>(new replicator(std::move(*stores), options, timers));
}

replicator::replicator(std::vector<std::shared_ptr<replica::sealed_store>> stores, replica_options options,
                       asio::any_io_executor timers)
    : stores_(std::move(stores)), options_(options), timers_(timers) {}

replicator::~replicator() { stop(); }

namespace {
// Why objects sealed as new ones will be cannot continue the generation `segment_key` belongs to
// (empty when they can): a key rotation, or encryption turned on or off, begins a new generation.
std::string seal_change(replica::sealed_store& store, const std::string& segment_key) {
  auto sealed = store.sealed_with(segment_key);
  if (!sealed) return "cannot read " + segment_key + ": " + sealed.error().message;
  const auto now = store.sealing_key();
  if (*sealed == now) return {};
  auto named = [](const std::optional<replica::seal::key_id>& id) { return id ? "key " + id->hex() : "no key"; };
  return "the newest generation is sealed with " + named(*sealed) + ", new objects with " + named(now);
}
}  // namespace

resume_plan replicator::plan_resume(const std::string& db_path) {
  resume_plan plan;
  auto found = replica::find_resume_point(*stores_.front(), db_path);
  const auto reason = found ? seal_change(*stores_.front(), found->segment_key) : found.error();
  if (!reason.empty()) {
    log::info("replica does not continue the local WAL; a new generation will start",
              {{"replica", stores_.front()->describe()}, {"reason", reason}});
    return plan;
  }
  plan.generation = found->generation;
  plan.index = found->at.index;
  plan.resume_frame = found->at.frame;
  plan.prev_index_frames = found->prev_index_frames;
  return plan;
}

namespace {
// Where the first replica's generation ends (the plan may begin in the index after it).
position replica_end(const resume_plan& plan) {
  if (plan.prev_index_frames > 0 && plan.resume_frame == 0u) return {plan.index - 1, plan.prev_index_frames};
  return {plan.index, plan.resume_frame.value_or(0)};
}
}  // namespace

void replicator::start(const resume_plan& plan, snapshot_pinner pinner) {
  pinner_ = std::move(pinner);
  for (std::size_t i = 0; i < stores_.size(); ++i) {
    auto shipper = std::make_shared<replica_shipper>(stores_[i], options_, pinner_);
    std::string generation;
    if (!plan.generation.empty() &&
        (i == 0 || replica::holds_position(*stores_[i], plan.generation, replica_end(plan))))
      generation = plan.generation;
    shipper->start(generation, {plan.index, plan.resume_frame.value_or(0)});
    shippers_.push_back(std::move(shipper));
  }
}

void replicator::on_chunk(std::shared_ptr<const db::wal_chunk> chunk) {
  for (auto& s : shippers_)
    s->on_chunk(chunk);
}

void replicator::on_discontinuity() {
  log::error("the live WAL no longer continues what was captured; new generations will start", {});
  for (auto& s : shippers_)
    s->restart_generation();
}

namespace {
// Counts replicas down to zero; whichever comes first — all of them, or the deadline — answers.
struct shipped_wait {
  std::atomic<std::size_t> left;
  std::atomic<bool> answered{false};
  asio::any_io_executor reply_to;
  std::function<void(bool)> handler;
  asio::steady_timer deadline;
  shipped_wait(std::size_t n, asio::any_io_executor r, std::function<void(bool)> h, asio::any_io_executor timers)
      : left(n), reply_to(std::move(r)), handler(std::move(h)), deadline(timers) {}
  void answer(bool ok, const std::shared_ptr<shipped_wait>& self) {
    if (answered.exchange(true)) return;
    asio::post(reply_to, [self, ok] { self->handler(ok); });
  }
};
}  // namespace

void replicator::when_shipped(position at, asio::any_io_executor reply_to, std::chrono::milliseconds timeout,
                              std::function<void(bool)> handler) {
  auto wait = std::make_shared<shipped_wait>(shippers_.size(), reply_to, std::move(handler), timers_);
  wait->deadline.expires_after(timeout);
  // Weak: a handler still queued when its io_context is destroyed must not own the timer.
  wait->deadline.async_wait([weak = std::weak_ptr<shipped_wait>(wait)](boost::system::error_code ec) {
    if (auto w = weak.lock(); w && !ec) w->answer(false, w);
  });
  for (auto& s : shippers_) {
    s->when_shipped(at, [wait] {
      if (wait->left.fetch_sub(1) == 1) {
        wait->answer(true, wait);
        asio::post(wait->deadline.get_executor(), [wait] { wait->deadline.cancel(); });
      }
    });
  }
}

void replicator::snapshot_now() {
  for (auto& s : shippers_)
    s->snapshot_now();
}

void replicator::stop() {
  for (auto& s : shippers_)
    s->stop();
}

std::vector<replica_stats> replicator::stats() const {
  std::vector<replica_stats> out;
  for (const auto& s : shippers_)
    out.push_back(s->stats());
  return out;
}

}  // namespace monolite::actors
