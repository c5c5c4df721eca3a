// replica_shipper: WAL segment uploads, retries, retention and statistics.
#include <boost/asio/post.hpp>

#include "actors/replica_shipper.hpp"
#include "proto/lz4.hpp"
#include "proto/replica_retention.hpp"
#include "proto/wal_segment.hpp"

namespace monolite::actors {
namespace asio = boost::asio;
using namespace std::chrono_literals;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Async mode uploads at most once per interval; sync mode, anyone waiting, or frames left over
// by the previous upload (it stopped at a WAL index boundary or the size cap) go at once.
// After a failure, the backoff decides. An earlier time replaces a later one already set.
void replica_shipper::schedule_pump(bool urgent) {
  auto when = last_upload_ + options_.interval;
  if (urgent || options_.sync || !waiters_.empty() || broken_) when = std::chrono::steady_clock::now();
  if (failures_ > 0) when = last_upload_ + std::min<std::chrono::milliseconds>(5s, 100ms * (1u << std::min(failures_, 6u)));
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
proto::wal_segment replica_shipper::next_segment(std::size_t& used) const {
  proto::wal_segment segment;
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
  if (!continues(*pending_.front(), segments_end_)) {
    log_(true, "the WAL does not continue the replica; starting a new generation",
         {{"replica", stats_.replica}, {"index", pending_.front()->index}, {"frame", pending_.front()->first_frame}});
    broken_ = true;
    return false;
  }
  std::size_t used = 0;
  const proto::wal_segment segment = next_segment(used);
  const std::string key = proto::layout::segment_key(generation_, segment.index, segment.first_frame,
                                                     segment.last_frame(), segment.commit_times_ms.front(),
                                                     segment.commit_times_ms.back());
  const std::string bytes = proto::lz4::compress(proto::encode_segment(segment));
  auto put = store_->put(key, bytes);
  if (!put) {
    on_failure("WAL segment upload failed", put.error());
    return false;
  }
  for (std::size_t i = 0; i < used; ++i) drop_front();
  record_upload(bytes.size(), segment.commit_times_ms);
  advance({segment.index, segment.last_frame()});
  return true;
}

void replica_shipper::record_upload(std::size_t bytes, const std::vector<std::int64_t>& commit_times_ms) {
  std::lock_guard lock(stats_mutex_);
  stats_.bytes_shipped += bytes;
  stats_.objects_shipped += 1;
  stats_.last_success_ms = now_ms();
  stats_.healthy = true;
  for (auto commit_ms : commit_times_ms) {
    const double delay = double(stats_.last_success_ms - commit_ms) / 1000.0;
    std::size_t bucket = 0;
    while (bucket < ship_delay_bucket_count && delay > ship_delay_buckets[bucket]) ++bucket;
    stats_.ship_delay_counts[bucket] += 1;
    stats_.ship_delay_sum += delay;
  }
}

void replica_shipper::on_failure(const std::string& what, const replica::store_error& error) {
  ++failures_;
  {
    std::lock_guard lock(stats_mutex_);
    stats_.errors += 1;
    stats_.healthy = false;
  }
  // One line per failure streak step (1, 2, 4, 8 … failures), so an outage does not flood the log.
  if ((failures_ & (failures_ - 1)) == 0)
    log_(true, what, {{"replica", stats_.replica}, {"error", error.message}, {"failures", failures_}});
}

void replica_shipper::advance(position shipped) {
  segments_end_ = std::max(segments_end_, shipped);
  if (!have_snapshot_) return;
  std::vector<waiter> ready;
  std::erase_if(waiters_, [&](waiter& w) {
    if (w.at > segments_end_) return false;
    ready.push_back(std::move(w));
    return true;
  });
  for (auto& w : ready) w.handler();
}

void replica_shipper::run_retention() {
  if (!have_snapshot_) return;  // never prune while the newest generation cannot be restored
  auto listed = store_->list("generations/");
  if (!listed) return on_failure("listing the replica for retention failed", listed.error());
  std::vector<proto::layout::listed_object> objects;
  for (auto& o : *listed) objects.push_back({std::move(o.key), o.size});
  const auto doomed = proto::retention::expired_keys(proto::layout::parse_catalog(objects), generation_,
                                                     now_ms() - options_.retention.count());
  if (doomed.empty()) return;
  auto removed = store_->remove(doomed);
  if (!removed) return on_failure("deleting expired replica objects failed", removed.error());
  std::lock_guard lock(stats_mutex_);
  stats_.deleted += doomed.size();
}

void replica_shipper::publish_stats() {
  std::lock_guard lock(stats_mutex_);
  stats_.generation = generation_;
  stats_.lag_frames = pending_frames_;
  oldest_pending_ms_ = pending_.empty() || pending_.front()->commit_times_ms.empty()
                           ? 0
                           : pending_.front()->commit_times_ms.front();
}

// The lag is computed when asked, so a scrape sees it grow while nothing is uploaded.
replica_stats replica_shipper::stats() const {
  std::lock_guard lock(stats_mutex_);
  replica_stats out = stats_;
  out.lag_seconds = oldest_pending_ms_ ? std::max(0.0, double(now_ms() - oldest_pending_ms_) / 1000.0) : 0.0;
  return out;
}

}  // namespace monolite::actors
