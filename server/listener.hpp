// Accepts TCP connections and starts an http_session for each, on the next thread of the io_pool.
#pragma once
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>

#include "proto/error.hpp"

namespace monolite::server {

struct server_context;
class io_pool;

class listener : public std::enable_shared_from_this<listener> {
 public:
  // Binds and listens; the error names the address when that fails (e.g. in use). A socket
  // passed by the service manager (LISTEN_FDS, systemd socket activation) is used instead of
  // binding, once checked to be listening on `endpoint`.
  static proto::result<std::shared_ptr<listener>> bind(io_pool& pool, server_context& ctx,
                                                       const boost::asio::ip::tcp::endpoint& endpoint);
  void start();
  void stop();  // thread-safe
  unsigned short port() const;
  bool inherited() const { return inherited_; }  // the socket came from LISTEN_FDS

 private:
  listener(io_pool& pool, server_context& ctx);
  void accept_next();
  proto::result<void> adopt(int fd, const boost::asio::ip::tcp::endpoint& endpoint);

  io_pool& pool_;
  server_context& ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  bool inherited_ = false;
};

}  // namespace monolite::server
