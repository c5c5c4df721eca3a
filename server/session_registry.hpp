// The set of open HTTP sessions, so shutdown can ask each to finish and close, with the peer
// address of each (how many distinct machines are connected: /admin/status).
// Thread-safe (a mutex around the set only; sessions are touched through their own strands).
#pragma once
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace monolite::server {

class http_session;

class session_registry {
 public:
  void add(const std::shared_ptr<http_session>& session, const boost::asio::ip::address& peer = {});
  void remove(const http_session* session);
  std::size_t size() const;
  std::size_t distinct_peers() const;  // peer addresses among the open sessions
  void for_each(const std::function<void(const std::shared_ptr<http_session>&)>& fn) const;

 private:
  mutable std::mutex mutex_;
  struct entry {
    std::weak_ptr<http_session> session;
    boost::asio::ip::address peer;
  };
  std::unordered_map<const http_session*, entry> sessions_;
};

}  // namespace monolite::server
