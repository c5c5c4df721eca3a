#include "server/session_registry.hpp"

#include <algorithm>
#include <vector>

namespace monolite::server {

void session_registry::add(const std::shared_ptr<http_session>& session, const boost::asio::ip::address& peer) {
  std::lock_guard lock(mutex_);
  sessions_[session.get()] = entry{session, peer};
}

void session_registry::remove(const http_session* session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
}

std::size_t session_registry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

std::size_t session_registry::distinct_peers() const {
  std::vector<boost::asio::ip::address> peers;
  {
    std::lock_guard lock(mutex_);
    peers.reserve(sessions_.size());
    for (const auto& [ptr, e] : sessions_)
      peers.push_back(e.peer);
  }
  std::sort(peers.begin(), peers.end());
  return static_cast<std::size_t>(std::unique(peers.begin(), peers.end()) - peers.begin());
}

void session_registry::for_each(const std::function<void(const std::shared_ptr<http_session>&)>& fn) const {
  std::vector<std::shared_ptr<http_session>> live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [ptr, e] : sessions_)
      if (auto s = e.session.lock()) live.push_back(std::move(s));
  }
  for (const auto& s : live)
    fn(s);  // outside the lock: fn may post, sessions may deregister
}

}  // namespace monolite::server
