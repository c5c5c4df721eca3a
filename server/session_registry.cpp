#include "server/session_registry.hpp"

#include <vector>

namespace monolite::server {

void session_registry::add(const std::shared_ptr<http_session>& session) {
  std::lock_guard lock(mutex_);
  sessions_[session.get()] = session;
}

void session_registry::remove(const http_session* session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
}

std::size_t session_registry::size() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

void session_registry::for_each(const std::function<void(const std::shared_ptr<http_session>&)>& fn) const {
  std::vector<std::shared_ptr<http_session>> live;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [ptr, weak] : sessions_)
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  for (const auto& s : live)
    fn(s);  // outside the lock: fn may post, sessions may deregister
}

}  // namespace monolite::server
