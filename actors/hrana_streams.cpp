#include "actors/hrana_streams.hpp"

namespace monolite::actors::hrana {

proto::result<std::shared_ptr<stream>> stream_registry::take(std::uint64_t id, std::uint64_t seq, bool read_only) {
  std::lock_guard lock(mutex_);
  const auto it = streams_.find(id);
  if (it == streams_.end())
    return proto::api_error{400, "STREAM_EXPIRED",
                            "the stream of this baton has expired (idle too long) or was closed; open a new one"};
  auto& s = *it->second;
  if (s.busy || s.seq != seq)
    return proto::api_error{400, "BATON_REUSED", "this baton was already used; send the baton of the last response"};
  if (read_only && !s.settings.read_only)
    return proto::api_error{403, "FORBIDDEN", "a read token may not use a stream opened with a write token"};
  s.busy = true;
  ++s.seq;
  return it->second;
}

proto::result<void> stream_registry::add(const std::shared_ptr<stream>& s) {
  std::lock_guard lock(mutex_);
  if (streams_.size() >= max_streams_)
    return proto::api_error{503, "TOO_MANY_STREAMS",
                            "the server holds " + std::to_string(max_streams_) + " open streams; close some or retry",
                            1};
  s->busy = true;
  streams_.emplace(s->id, s);
  return {};
}

std::uint64_t stream_registry::give_back(stream& s) {
  std::lock_guard lock(mutex_);
  s.busy = false;
  s.last_used = clock::now();
  return s.seq;
}

void stream_registry::remove(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  streams_.erase(id);
}

std::vector<std::shared_ptr<stream>> stream_registry::take_idle(clock::time_point cutoff) {
  std::vector<std::shared_ptr<stream>> out;
  std::lock_guard lock(mutex_);
  for (auto it = streams_.begin(); it != streams_.end();) {
    if (!it->second->busy && it->second->last_used < cutoff) {
      out.push_back(std::move(it->second));
      it = streams_.erase(it);
    } else {
      ++it;
    }
  }
  return out;
}

std::size_t stream_registry::size() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

}  // namespace monolite::actors::hrana
