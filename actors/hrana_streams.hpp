// Hrana streams: the state one baton stands for, and the registry of open streams.
// A stream is used by one pipeline at a time (taking it consumes the baton), so its fields need no
// lock; the pipeline hands it from strand to strand by posting. The registry is thread-safe: each
// method takes its mutex for a map operation, never across SQLite or I/O.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "actors/hrana_exec.hpp"
#include "actors/pinned_readers.hpp"
#include "actors/sql_outcomes.hpp"

namespace monolite::actors::hrana {

using clock = std::chrono::steady_clock;

proto::api_error stream_expired_error();
proto::api_error baton_reused_error();
proto::api_error write_stream_forbidden_error();
proto::api_error too_many_streams_error(std::size_t max_streams);

struct stream {
  enum class txn { none, write, read };

  std::uint64_t id = 0;  // also the writer lease id
  stream_settings settings;
  std::unordered_map<std::int32_t, std::string> sqls;  // store_sql texts
  txn transaction = txn::none;
  std::optional<pinned_readers::loan> pinned;  // the pinned reader while transaction == read
  clock::time_point read_since;
  bool closed = false;

  // Owned by the registry (under its mutex).
  std::uint64_t seq = 0;  // the sequence number of the one baton that is valid now
  bool busy = false;      // a pipeline holds it
  clock::time_point last_used;
};

// Streams by id, for any stream type with the registry's fields (id, seq, busy, last_used and
// settings.read_only): the SQLite service's `stream` and the PostgreSQL one's.
template <class Stream>
class basic_stream_registry {
 public:
  explicit basic_stream_registry(std::size_t max_streams) : max_streams_(max_streams) {}

  // The stream of a baton, now busy; 400 STREAM_EXPIRED (unknown: expired or closed), 400
  // BATON_REUSED (an older baton, or one in use), 403 FORBIDDEN (a read token on a write stream).
  proto::result<std::shared_ptr<Stream>> take(std::uint64_t id, std::uint64_t seq, bool read_only) {
    std::lock_guard lock(mutex_);
    const auto it = streams_.find(id);
    if (it == streams_.end()) return stream_expired_error();
    auto& s = *it->second;
    if (s.busy || s.seq != seq) return baton_reused_error();
    if (read_only && !s.settings.read_only) return write_stream_forbidden_error();
    s.busy = true;
    ++s.seq;
    return it->second;
  }
  // Registers a new stream as busy; 503 TOO_MANY_STREAMS when the registry is full.
  proto::result<void> add(const std::shared_ptr<Stream>& s) {
    std::lock_guard lock(mutex_);
    if (streams_.size() >= max_streams_) return too_many_streams_error(max_streams_);
    s->busy = true;
    streams_.emplace(s->id, s);
    return {};
  }
  // Not busy any more; returns the sequence number of its next baton.
  std::uint64_t give_back(Stream& s) {
    std::lock_guard lock(mutex_);
    s.busy = false;
    s.last_used = clock::now();
    return s.seq;
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    streams_.erase(id);
  }
  // Removes and returns the idle streams last used before `cutoff` (all of them with max()).
  std::vector<std::shared_ptr<Stream>> take_idle(clock::time_point cutoff) {
    return take_where([cutoff](const Stream& s) { return s.last_used < cutoff; }, true);
  }
  // Marks busy (or, with `remove`, removes) and returns the idle streams `pick` chooses.
  template <class Pick>
  std::vector<std::shared_ptr<Stream>> take_where(Pick pick, bool remove) {
    std::vector<std::shared_ptr<Stream>> out;
    std::lock_guard lock(mutex_);
    for (auto it = streams_.begin(); it != streams_.end();) {
      if (it->second->busy || !pick(*it->second)) {
        ++it;
        continue;
      }
      it->second->busy = !remove;
      out.push_back(remove ? std::move(it->second) : it->second);
      it = remove ? streams_.erase(it) : std::next(it);
    }
    return out;
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return streams_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Stream>> streams_;
  std::size_t max_streams_;
};

using stream_registry = basic_stream_registry<stream>;

// The stream a pipeline runs on: the baton's (now busy), or a new one with `id`, registered unless
// the pipeline ends by closing it (then it never hands out a baton). Second: whether it is registered.
template <class Stream>
proto::result<std::pair<std::shared_ptr<Stream>, bool>> stream_for_pipeline(
    basic_stream_registry<Stream>& registry, const std::optional<stream_ref>& baton, bool read_only,
    const std::vector<ph::decoded_request>& requests, std::uint64_t id) {
  if (baton) {
    auto taken = registry.take(baton->id, baton->seq, read_only);
    if (!taken) return taken.error();
    return std::pair{std::move(*taken), true};
  }
  auto s = std::make_shared<Stream>();
  s->id = id;
  s->settings.read_only = read_only;
  const bool registered = requests.empty() || !requests.back() || requests.back()->kind != ph::request_kind::close;
  if (registered) {
    if (auto added = registry.add(s); !added) return added.error();
  }
  return std::pair{std::move(s), registered};
}

}  // namespace monolite::actors::hrana
