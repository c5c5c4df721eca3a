// The set of open HTTP sessions, so shutdown can ask each to finish and close.
// Thread-safe (a mutex around the set only; sessions are touched through their own strands).
#pragma once
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace monolite::server {

class http_session;

class session_registry {
 public:
  void add(const std::shared_ptr<http_session>& session);
  void remove(const http_session* session);
  std::size_t size() const;
  void for_each(const std::function<void(const std::shared_ptr<http_session>&)>& fn) const;

 private:
  mutable std::mutex mutex_;
  std::unordered_map<const http_session*, std::weak_ptr<http_session>> sessions_;
};

}  // namespace monolite::server
