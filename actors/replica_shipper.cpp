#include "actors/replica_shipper.hpp"

#include <malloc.h>

#include <boost/asio/post.hpp>

#include "common/log.hpp"
#include "common/strand_check.hpp"
#include "replica/format/lz4.hpp"
#include "replica/format/retention.hpp"
#include "replica/format/wal_segment.hpp"
#include "replica/snapshot_upload.hpp"

namespace monolite::actors {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {
// A backlog that reached this much is handed back to the system once it is gone.
constexpr std::size_t memory_trim_threshold = 8u << 20;
}  // namespace

replica_shipper::replica_shipper(std::shared_ptr<replica::object_store> store, replica_options options,
                                 snapshot_pinner pinner)
    : store_(std::move(store)),
      options_(options),
      pinner_(std::move(pinner)),
      strand_(asio::make_strand(thread_.get_executor())),
      pump_timer_(strand_),
      snapshot_timer_(strand_),
      retention_timer_(strand_),
      compact_timer_(strand_),
      stats_(store_->describe()) {}

replica_shipper::~replica_shipper() { stop(); }

void replica_shipper::stop() {
  stopping_ = true;
  compact_thread_.join();  // first, so that a pass ending now still finds the strand running
  asio::post(strand_, [this] {
    pump_timer_.cancel();
    snapshot_timer_.cancel();
    retention_timer_.cancel();
    compact_timer_.cancel();
    waiters_.clear();  // their handlers hold whoever waits (the writer): let go of them
    drop_all();
  });
  thread_.join();
  snapshot_thread_.join();
}

void replica_shipper::start(std::string generation, position resume_at) {
  asio::post(strand_, [self = shared_from_this(), generation = std::move(generation), resume_at] {
    if (generation.empty()) {
      self->new_generation();
    } else {
      self->generation_ = generation;
      self->generation_ready_ = self->have_snapshot_ = true;
      self->segments_end_ = self->snapshot_at_ = resume_at;
      log::info("continuing generation", {{"replica", self->stats_.replica()}, {"generation", generation}});
      self->publish_stats();
    }
    self->arm_periodic(self->snapshot_timer_, self->options_.snapshot_interval, &replica_shipper::periodic_snapshot);
    self->arm_periodic(self->retention_timer_, self->options_.retention_check, &replica_shipper::run_retention);
    if (self->options_.compact_interval.count() > 0)
      self->arm_periodic(self->compact_timer_, self->options_.compact_interval, &replica_shipper::run_compaction);
  });
}

void replica_shipper::arm_periodic(asio::steady_timer& timer, std::chrono::milliseconds every,
                                   void (replica_shipper::*fn)()) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  timer.expires_after(every);
  timer.async_wait([self = shared_from_this(), &timer, every, fn](boost::system::error_code ec) {
    if (ec) return;
    ((*self).*fn)();
    self->arm_periodic(timer, every, fn);
  });
}

void replica_shipper::new_generation() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  generation_ = replica::layout::new_generation_id(now_ms(), static_cast<std::uint32_t>(random_()));
  generation_ready_ = have_snapshot_ = false;
  log::info("starting a new generation", {{"replica", stats_.replica()}, {"generation", generation_}});
  request_pin();
  publish_stats();
}

void replica_shipper::drop_front() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  pending_bytes_ -= pending_.front()->frames.size();
  pending_frames_ -= pending_.front()->frame_count();
  held_bytes_.fetch_sub(pending_.front()->frames.size(), std::memory_order_relaxed);
  pending_.pop_front();
  if (pending_.empty()) give_memory_back();
}

void replica_shipper::drop_all() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  held_bytes_.fetch_sub(pending_bytes_, std::memory_order_relaxed);
  pending_.clear();
  pending_bytes_ = pending_frames_ = 0;
  give_memory_back();
}

// After a backlog spike the allocator keeps the freed chunks' pages; hand them back to the system
// so that a stall leaves no lasting footprint (the chunks were allocated on the writer's thread,
// in its arena: malloc_trim trims every arena).
void replica_shipper::give_memory_back() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (peak_bytes_ < memory_trim_threshold) return;
  peak_bytes_ = 0;
  ::malloc_trim(0);
}

void replica_shipper::restart_generation() {
  asio::post(strand_, [self = shared_from_this()] {
    self->broken_ = true;
    self->schedule_pump();
  });
}

// Only when something was committed since the last snapshot: an idle database is not copied again.
void replica_shipper::periodic_snapshot() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (generation_ready_ && pending_.empty() && segments_end_ == snapshot_at_) return;
  snapshot_now();
}

void replica_shipper::snapshot_now() {
  asio::post(strand_, [self = shared_from_this()] {
    if (!self->snapshot_running_ && self->generation_ready_) self->request_pin();
  });
}

// The writer pins its current position between two commits; the copy happens off its thread.
void replica_shipper::request_pin() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  snapshot_running_ = true;
  pinner_([self = shared_from_this(), generation = generation_](proto::result<std::shared_ptr<pinned_snapshot>> pin) {
    asio::post(self->strand_,
               [self, pin = std::move(pin), generation]() mutable { self->on_pinned(std::move(pin), generation); });
  });
}

void replica_shipper::on_pinned(proto::result<std::shared_ptr<pinned_snapshot>> pin, const std::string& generation) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (generation != generation_) return;
  if (!pin) {
    snapshot_running_ = false;
    log::error("cannot pin a snapshot", {{"replica", stats_.replica()}, {"error", pin.error().message}});
    return;
  }
  if (!generation_ready_) {  // a new generation: its history starts at this position
    generation_ready_ = true;
    segments_end_ = (*pin)->at;
    while (!pending_.empty() && pending_.front()->end() <= segments_end_)
      drop_front();
    schedule_pump();
  }
  asio::post(snapshot_thread_, [self = shared_from_this(), pin = std::move(*pin), generation]() mutable {
    self->upload_snapshot(std::move(pin), generation);
  });
}

void replica_shipper::upload_snapshot(std::shared_ptr<pinned_snapshot> pin, std::string generation) {
  MONOLITE_ASSERT_ON_STRAND(snapshot_thread_.get_executor());  // its own thread, by design
  const position at = pin->at;
  const std::string key = replica::layout::snapshot_key(generation, at, pin->time_ms);
  // Streamed: the pin is held until the last byte is sent.
  auto sent = replica::upload_snapshot(*store_, key, pin->db_path, pin->wal_frames);
  pin.reset();  // let checkpoints go past this position again
  const bool ok = sent.has_value();
  const std::size_t size = ok ? static_cast<std::size_t>(*sent) : 0;
  if (ok) stats_.snapshot_uploaded(size);
  if (!ok) {
    stats_.failed();  // counted before it is logged: whoever reads the log line finds it in /metrics
    log::error("snapshot upload failed", {{"replica", stats_.replica()}, {"error", sent.error().message}});
  }
  asio::post(strand_, [self = shared_from_this(), generation, at, ok] {
    self->on_snapshot_done(generation, at, ok);
    // The upload's buffers (up to a multipart part, 8 MiB, even for a small snapshot) were freed
    // on the snapshot thread's arena: hand them back. Snapshots are rare; a trim costs milliseconds.
    ::malloc_trim(0);
  });
}

void replica_shipper::on_snapshot_done(const std::string& generation, position at, bool ok) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  snapshot_running_ = false;
  if (generation != generation_) return;
  if (ok) {
    const bool first = !have_snapshot_;
    have_snapshot_ = true;
    snapshot_at_ = at;
    ++uploads_since_retention_;
    stats_.snapshot_counted();
    log::info("snapshot uploaded",
              {{"replica", stats_.replica()}, {"generation", generation}, {"index", at.index}, {"frame", at.frame}});
    if (first) advance(segments_end_);
    return;
  }
  // Without a snapshot a generation cannot be restored: try again shortly.
  if (!have_snapshot_) {
    snapshot_timer_.expires_after(std::min<std::chrono::milliseconds>(5s, options_.snapshot_interval));
    snapshot_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->snapshot_running_) self->request_pin();
      if (!ec)
        self->arm_periodic(self->snapshot_timer_, self->options_.snapshot_interval,
                           &replica_shipper::periodic_snapshot);
    });
  }
}

// On the writer's thread: never waits for the strand, which may be inside a long upload.
void replica_shipper::on_chunk(std::shared_ptr<const db::wal_chunk> chunk) {
  const std::size_t bytes = chunk->frames.size();
  if (overflowed_.load(std::memory_order_acquire)) return;  // the new generation's snapshot covers it
  const std::size_t held = held_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  if (held <= options_.max_backlog_bytes) {
    asio::post(strand_,
               [self = shared_from_this(), chunk = std::move(chunk)]() mutable { self->accept(std::move(chunk)); });
    return;
  }
  held_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
  if (overflowed_.exchange(true, std::memory_order_acq_rel)) return;
  log::error("replication backlog over its limit; dropping it and starting a new generation",
             {{"replica", stats_.replica()}, {"bytes", held}, {"limit", options_.max_backlog_bytes}});
  asio::post(strand_, [self = shared_from_this()] { self->give_up_backlog(); });
}

void replica_shipper::accept(std::shared_ptr<const db::wal_chunk> chunk) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  pending_bytes_ += chunk->frames.size();
  pending_frames_ += chunk->frame_count();
  peak_bytes_ = std::max(peak_bytes_, pending_bytes_);
  pending_.push_back(std::move(chunk));
  publish_stats();
  schedule_pump();
}

// Chunks were dropped at capture: the generation has a hole, so everything held goes and a new
// generation starts. Its snapshot is pinned after this, so it covers every chunk dropped.
void replica_shipper::give_up_backlog() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  stats_.failed();
  drop_all();
  broken_ = true;
  overflowed_.store(false, std::memory_order_release);
  publish_stats();
  schedule_pump();
}

void replica_shipper::when_shipped(position at, std::function<void()> handler) {
  asio::post(strand_, [self = shared_from_this(), at, handler = std::move(handler)]() mutable {
    if (self->have_snapshot_ && at <= self->segments_end_) return handler();
    self->waiters_.push_back({at, std::move(handler)});
    self->schedule_pump();
  });
}

// WAL segment uploads, retries, retention and statistics.

// Async mode uploads at most once per interval; sync mode, anyone waiting, or frames left over
// by the previous upload (it stopped at a WAL index boundary or the size cap) go at once.
// After a failure, the backoff decides. An earlier time replaces a later one already set.
void replica_shipper::schedule_pump(bool urgent) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto when = last_upload_ + options_.interval;
  if (urgent || options_.sync || !waiters_.empty() || broken_) when = std::chrono::steady_clock::now();
  if (failures_ > 0)
    when = last_upload_ + std::min<std::chrono::milliseconds>(5s, 100ms * (1u << std::min(failures_, 6u)));
  if (pump_scheduled_ && pump_timer_.expiry() <= when) return;
  pump_scheduled_ = true;
  pump_timer_.expires_at(when);  // cancels a later wait: its handler sees operation_aborted
  pump_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;
    self->pump_scheduled_ = false;
    self->pump();
  });
}

void replica_shipper::pump() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (broken_) {
    broken_ = false;
    drop_all();
    new_generation();
    return;
  }
  if (!generation_ready_ || pending_.empty()) return publish_stats();
  last_upload_ = std::chrono::steady_clock::now();
  const bool shipped = upload_segment();
  if (shipped) failures_ = 0;
  publish_stats();
  // The upload blocked this strand, so whatever is still pending was waiting before it began and
  // did not fit (a WAL index boundary or the size cap): it goes now, not an interval later.
  if (!pending_.empty() || broken_) schedule_pump(shipped && !pending_.empty());
}

namespace {
// True when `chunk` carries on exactly where `end` stopped.
bool continues(const db::wal_chunk& chunk, position end) {
  if (chunk.index == end.index) return chunk.first_frame == end.frame + 1;
  return chunk.index == end.index + 1 && chunk.first_frame == 1 && chunk.prev_index_frames == end.frame;
}
}  // namespace

// Joins the pending chunks that continue one another within one WAL index (up to the size cap)
// into one segment; `used` says how many.
replica::wal_segment replica_shipper::next_segment(std::size_t& used) const {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  replica::wal_segment segment;
  const auto& first = *pending_.front();
  segment.index = first.index, segment.first_frame = first.first_frame;
  segment.prev_index_frames = first.prev_index_frames;
  segment.wal_header = first.wal_header, segment.chain_in = first.chain_in;
  used = 0;
  for (position end = segments_end_; used < pending_.size(); ++used) {
    const auto& c = *pending_[used];
    if (used > 0 && (c.index != end.index || c.first_frame != end.frame + 1)) break;
    if (used > 0 && segment.frames.size() + c.frames.size() > options_.max_segment_bytes) break;
    segment.frames += c.frames;
    segment.commit_times_ms.insert(segment.commit_times_ms.end(), c.commit_times_ms.begin(), c.commit_times_ms.end());
    end = c.end();
  }
  return segment;
}

bool replica_shipper::upload_segment() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (!continues(*pending_.front(), segments_end_)) {
    log::error(
        "the WAL does not continue the replica; starting a new generation",
        {{"replica", stats_.replica()}, {"index", pending_.front()->index}, {"frame", pending_.front()->first_frame}});
    broken_ = true;
    return false;
  }
  std::size_t used = 0;
  const replica::wal_segment segment = next_segment(used);
  const std::string key =
      replica::layout::segment_key(generation_, segment.index, segment.first_frame, segment.last_frame(),
                                   segment.commit_times_ms.front(), segment.commit_times_ms.back());
  const std::string bytes = replica::lz4::compress(replica::encode_segment(segment));
  auto put = store_->put(key, bytes);
  if (!put) {
    on_failure("WAL segment upload failed", put.error());
    return false;
  }
  for (std::size_t i = 0; i < used; ++i)
    drop_front();
  ++uploads_since_retention_, ++uploads_since_compaction_;
  stats_.segment_uploaded(bytes.size(), segment.commit_times_ms);
  advance({segment.index, segment.last_frame()});
  return true;
}

void replica_shipper::on_failure(const std::string& what, const replica::store_error& error) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  ++failures_;
  stats_.failed();
  // One line per failure streak step (1, 2, 4, 8 … failures), so an outage does not flood the log.
  if ((failures_ & (failures_ - 1)) == 0)
    log::error(what, {{"replica", stats_.replica()}, {"error", error.message}, {"failures", failures_}});
}

void replica_shipper::advance(position shipped) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  segments_end_ = std::max(segments_end_, shipped);
  if (!have_snapshot_) return;
  std::vector<waiter> ready;
  std::erase_if(waiters_, [&](waiter& w) {
    if (w.at > segments_end_) return false;
    ready.push_back(std::move(w));
    return true;
  });
  for (auto& w : ready)
    w.handler();
}

void replica_shipper::run_retention() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (!have_snapshot_) return;  // never prune while the newest generation cannot be restored
  // Nothing uploaded since the last look: nothing new to prune against, so no LIST. An idle replica
  // keeps objects that aged out until the next write; keeping more is always safe.
  if (uploads_since_retention_ == 0) return;
  if (compacting_) {  // the pass may be deleting in the same generation: prune once it is done
    retention_waiting_ = true;
    return;
  }
  auto listed = store_->list("generations/");
  if (!listed) return on_failure("listing the replica for retention failed", listed.error());
  uploads_since_retention_ = 0;
  std::vector<replica::layout::listed_object> objects;
  for (auto& o : *listed)
    objects.push_back({std::move(o.key), o.size});
  const auto doomed = replica::retention::expired_keys(replica::layout::parse_catalog(objects), generation_,
                                                       now_ms() - options_.retention.count());
  if (doomed.empty()) return;
  auto removed = store_->remove(doomed);
  if (!removed) return on_failure("deleting expired replica objects failed", removed.error());
  stats_.deleted(doomed.size());
}

// Off the strand: a pass downloads and uploads many objects, and segments keep flowing meanwhile.
void replica_shipper::run_compaction() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (compacting_ || uploads_since_compaction_ == 0 || !have_snapshot_ || stopping_) return;
  compacting_ = true;
  uploads_since_compaction_ = 0;
  replica::compaction_options o;
  o.max_bytes = options_.max_segment_bytes;
  o.cancelled = [this] { return stopping_.load(); };
  asio::post(compact_thread_, [self = shared_from_this(), o] {
    auto result = replica::compact(*self->store_, o);
    asio::post(self->strand_, [self, result = std::move(result)] { self->on_compaction_done(result); });
  });
}

void replica_shipper::on_compaction_done(const replica::compaction_result& result) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  compacting_ = false;
  if (!result) {  // not a shipping failure: uploads go on without backing off; the next pass retries
    log::warn("compacting the replica failed", {{"replica", stats_.replica()}, {"error", result.error().message}});
  } else if (result->merged + result->redundant > 0 || !result->skipped.empty()) {
    log::info("replica compacted", {{"replica", stats_.replica()},
                                    {"merged", result->merged},
                                    {"replaced", result->replaced},
                                    {"leftovers_deleted", result->redundant},
                                    {"skipped", result->skipped.empty() ? "" : result->skipped.front()}});
    stats_.deleted(result->replaced + result->redundant);
  }
  if (retention_waiting_ && !stopping_) {
    retention_waiting_ = false;
    run_retention();
  }
}

void replica_shipper::publish_stats() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  stats_.publish(
      generation_, pending_frames_,
      pending_.empty() || pending_.front()->commit_times_ms.empty() ? 0 : pending_.front()->commit_times_ms.front());
}

replica_stats replica_shipper::stats() const { return stats_.read(store_->requests()); }

}  // namespace monolite::actors
