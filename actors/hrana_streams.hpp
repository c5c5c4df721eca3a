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
#include <vector>

#include "actors/hrana_exec.hpp"
#include "actors/pinned_readers.hpp"

namespace monolite::actors::hrana {

using clock = std::chrono::steady_clock;

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

class stream_registry {
 public:
  explicit stream_registry(std::size_t max_streams) : max_streams_(max_streams) {}

  // The stream of a baton, now busy; 400 STREAM_EXPIRED (unknown: expired or closed), 400
  // BATON_REUSED (an older baton, or one in use), 403 FORBIDDEN (a read token on a write stream).
  proto::result<std::shared_ptr<stream>> take(std::uint64_t id, std::uint64_t seq, bool read_only);
  // Registers a new stream as busy; 503 TOO_MANY_STREAMS when the registry is full.
  proto::result<void> add(const std::shared_ptr<stream>& s);
  // Not busy any more; returns the sequence number of its next baton.
  std::uint64_t give_back(stream& s);
  void remove(std::uint64_t id);
  // Removes and returns the idle streams last used before `cutoff` (all of them with max()).
  std::vector<std::shared_ptr<stream>> take_idle(clock::time_point cutoff);
  std::size_t size() const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::shared_ptr<stream>> streams_;
  std::size_t max_streams_;
};

}  // namespace monolite::actors::hrana
