#include "server/listener.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <sstream>

#include "server/http_session.hpp"
#include "server/io_pool.hpp"
#include "server/log.hpp"
#include "server/server_context.hpp"

namespace monolite::server {
namespace asio = boost::asio;
using asio::ip::tcp;

listener::listener(io_pool& pool, server_context& ctx)
    : pool_(pool), ctx_(ctx), acceptor_(pool.context(0)), retry_timer_(acceptor_.get_executor()) {}

proto::result<std::shared_ptr<listener>> listener::bind(io_pool& pool, server_context& ctx,
                                                        const tcp::endpoint& endpoint) {
  std::shared_ptr<listener> self(new listener(pool, ctx));
  boost::system::error_code ec;
  auto& a = self->acceptor_;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) return self;
  std::ostringstream address;
  address << endpoint;
  return proto::internal_error("cannot listen on " + address.str() + ": " + ec.message());
}

unsigned short listener::port() const { return acceptor_.local_endpoint().port(); }

void listener::start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept_next(); });
}

void listener::stop() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ec;
    self->retry_timer_.cancel();
    self->acceptor_.close(ec);
  });
}

namespace {

// Past --max-connections: one short JSON answer, then close. The text is fixed, so it is built once.
void refuse(tcp::socket socket) {
  static const std::string answer = [] {
    const std::string body = R"({"error":{"code":"OVERLOADED","message":"too many open connections; retry shortly"}})";
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
           "Connection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  auto owned = std::make_shared<tcp::socket>(std::move(socket));
  asio::async_write(*owned, asio::buffer(answer), [owned](boost::system::error_code, std::size_t) {
    boost::system::error_code ignored;
    owned->shutdown(tcp::socket::shutdown_both, ignored);
    owned->close(ignored);
  });
}

}  // namespace

void listener::accept_next() {
  const auto home = pool_.next_index();
  acceptor_.async_accept(pool_.context(home).get_executor(), [self = shared_from_this(), home](
                                                                 boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors or similar: back off briefly instead of spinning.
      log::warn("accept failed", {{"error", ec.message()}});
      self->retry_timer_.expires_after(std::chrono::milliseconds(50));
      self->retry_timer_.async_wait([self](boost::system::error_code wait_ec) {
        if (!wait_ec) self->accept_next();
      });
      return;
    }
    socket.set_option(tcp::no_delay(true), ec);
    if (self->ctx_.sessions.size() >= self->ctx_.settings.max_connections)
      refuse(std::move(socket));
    else
      std::make_shared<http_session>(std::move(socket), self->ctx_, home)->run();
    self->accept_next();
  });
}

}  // namespace monolite::server
