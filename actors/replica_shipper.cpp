#include "actors/replica_shipper.hpp"

#include <boost/asio/post.hpp>
#include <random>

#include "db/db_image.hpp"
#include "proto/lz4.hpp"
#include "proto/replica_retention.hpp"
#include "proto/wal_segment.hpp"

namespace monolite::actors {
namespace asio = boost::asio;
using namespace std::chrono_literals;

replica_shipper::replica_shipper(std::shared_ptr<replica::object_store> store, replica_options options,
                                 snapshot_pinner pinner, replica_log log)
    : store_(std::move(store)), options_(options), pinner_(std::move(pinner)), log_(std::move(log)),
      strand_(asio::make_strand(thread_.get_executor())), pump_timer_(strand_), snapshot_timer_(strand_),
      retention_timer_(strand_) {
  stats_.replica = store_->describe();
}

replica_shipper::~replica_shipper() { stop(); }

void replica_shipper::stop() {
  asio::post(strand_, [this] {
    pump_timer_.cancel();
    snapshot_timer_.cancel();
    retention_timer_.cancel();
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
      self->segments_end_ = resume_at;
      self->log_(false, "continuing generation", {{"replica", self->stats_.replica}, {"generation", generation}});
      self->publish_stats();
    }
    self->arm_periodic(self->snapshot_timer_, self->options_.snapshot_interval, &replica_shipper::snapshot_now);
    self->arm_periodic(self->retention_timer_, self->options_.retention_check, &replica_shipper::run_retention);
  });
}

void replica_shipper::arm_periodic(asio::steady_timer& timer, std::chrono::milliseconds every,
                                   void (replica_shipper::*fn)()) {
  timer.expires_after(every);
  timer.async_wait([self = shared_from_this(), &timer, every, fn](boost::system::error_code ec) {
    if (ec) return;
    ((*self).*fn)();
    self->arm_periodic(timer, every, fn);
  });
}

void replica_shipper::new_generation() {
  static std::mt19937 random{std::random_device{}()};
  generation_ = proto::layout::new_generation_id(now_ms(), static_cast<std::uint32_t>(random()));
  generation_ready_ = have_snapshot_ = false;
  log_(false, "starting a new generation", {{"replica", stats_.replica}, {"generation", generation_}});
  request_pin();
  publish_stats();
}

void replica_shipper::drop_front() {
  pending_bytes_ -= pending_.front()->frames.size();
  pending_frames_ -= pending_.front()->frame_count();
  pending_.pop_front();
}

void replica_shipper::drop_all() {
  pending_.clear();
  pending_bytes_ = pending_frames_ = 0;
}

void replica_shipper::restart_generation() {
  asio::post(strand_, [self = shared_from_this()] {
    self->broken_ = true;
    self->schedule_pump();
  });
}

void replica_shipper::snapshot_now() {
  asio::post(strand_, [self = shared_from_this()] {
    if (!self->snapshot_running_ && self->generation_ready_) self->request_pin();
  });
}

// The writer pins its current position between two commits; the copy happens off its thread.
void replica_shipper::request_pin() {
  snapshot_running_ = true;
  pinner_([self = shared_from_this(), generation = generation_](proto::result<std::shared_ptr<pinned_snapshot>> pin) {
    asio::post(self->strand_, [self, pin = std::move(pin), generation]() mutable {
      self->on_pinned(std::move(pin), generation);
    });
  });
}

void replica_shipper::on_pinned(proto::result<std::shared_ptr<pinned_snapshot>> pin, const std::string& generation) {
  if (generation != generation_) return;
  if (!pin) {
    snapshot_running_ = false;
    log_(true, "cannot pin a snapshot", {{"replica", stats_.replica}, {"error", pin.error().message}});
    return;
  }
  if (!generation_ready_) {  // a new generation: its history starts at this position
    generation_ready_ = true;
    segments_end_ = (*pin)->at;
    while (!pending_.empty() && pending_.front()->end() <= segments_end_) drop_front();
    schedule_pump();
  }
  asio::post(snapshot_thread_, [self = shared_from_this(), pin = std::move(*pin), generation]() mutable {
    self->upload_snapshot(std::move(pin), generation);
  });
}

void replica_shipper::upload_snapshot(std::shared_ptr<pinned_snapshot> pin, std::string generation) {
  proto::lz4::compressor compressed;
  auto image = db::read_image(pin->db_path, pin->wal_frames, [&](std::string_view pages) { compressed.append(pages); });
  const position at = pin->at;
  const std::string key = proto::layout::snapshot_key(generation, at, pin->time_ms);
  pin.reset();  // the copy is made: let checkpoints go past this position again
  bool ok = false;
  if (!image) {
    log_(true, "cannot read the database for a snapshot", {{"error", image.error().message}});
  } else {
    const std::string bytes = compressed.finish();
    auto put = store_->put(key, bytes);
    ok = put.has_value();
    if (!ok) log_(true, "snapshot upload failed", {{"replica", stats_.replica}, {"error", put.error().message}});
    if (ok) {
      std::lock_guard lock(stats_mutex_);
      stats_.bytes_shipped += bytes.size();
      stats_.objects_shipped += 1;
    }
  }
  asio::post(strand_, [self = shared_from_this(), generation, at, ok] { self->on_snapshot_done(generation, at, ok); });
}

void replica_shipper::on_snapshot_done(const std::string& generation, position at, bool ok) {
  snapshot_running_ = false;
  if (generation != generation_) return;
  if (!ok) {
    std::lock_guard lock(stats_mutex_);
    stats_.errors += 1;
    stats_.healthy = false;
  } else {
    const bool first = !have_snapshot_;
    have_snapshot_ = true;
    {
      std::lock_guard lock(stats_mutex_);
      stats_.snapshots += 1;
    }
    log_(false, "snapshot uploaded", {{"replica", stats_.replica}, {"generation", generation},
                                      {"index", at.index}, {"frame", at.frame}});
    if (first) advance(segments_end_);
    return;
  }
  // Without a snapshot a generation cannot be restored: try again shortly.
  if (!have_snapshot_) {
    snapshot_timer_.expires_after(std::min<std::chrono::milliseconds>(5s, options_.snapshot_interval));
    snapshot_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && !self->snapshot_running_) self->request_pin();
      if (!ec) self->arm_periodic(self->snapshot_timer_, self->options_.snapshot_interval, &replica_shipper::snapshot_now);
    });
  }
}

void replica_shipper::on_chunk(std::shared_ptr<const db::wal_chunk> chunk) {
  asio::post(strand_, [self = shared_from_this(), chunk = std::move(chunk)]() mutable {
    self->pending_bytes_ += chunk->frames.size();
    self->pending_frames_ += chunk->frame_count();
    self->pending_.push_back(std::move(chunk));
    if (self->pending_bytes_ > self->options_.max_backlog_bytes) {
      self->log_(true, "replication backlog over its limit; dropping it and starting a new generation",
                 {{"replica", self->stats_.replica}, {"bytes", self->pending_bytes_}});
      self->drop_all();
      self->broken_ = true;
    }
    self->publish_stats();
    self->schedule_pump();
  });
}

void replica_shipper::when_shipped(position at, std::function<void()> handler) {
  asio::post(strand_, [self = shared_from_this(), at, handler = std::move(handler)]() mutable {
    if (self->have_snapshot_ && at <= self->segments_end_) return handler();
    self->waiters_.push_back({at, std::move(handler)});
    self->schedule_pump();
  });
}

}  // namespace monolite::actors
