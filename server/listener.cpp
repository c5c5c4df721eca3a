#include "server/listener.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstdlib>
#include <sstream>
#include <string>

#include "common/log.hpp"
#include "server/http_session.hpp"
#include "server/io_pool.hpp"
#include "server/server_context.hpp"

namespace monolite::server {
namespace asio = boost::asio;
using asio::ip::tcp;

listener::listener(io_pool& pool, server_context& ctx)
    : pool_(pool), ctx_(ctx), acceptor_(pool.context(0)), retry_timer_(acceptor_.get_executor()) {}

namespace {

std::string to_string(const tcp::endpoint& endpoint) {
  std::ostringstream out;
  out << endpoint;
  return out.str();
}

// Socket activation (systemd's sd_listen_fds protocol): when LISTEN_PID is this process and
// LISTEN_FDS is 1, descriptor 3 is a socket already listening, owned by the service manager. It
// outlives this process, so while monolite restarts, new connections wait in its backlog instead
// of being refused. Returns -1 when no socket was passed.
int passed_socket() {
  const char* pid = std::getenv("LISTEN_PID");
  const char* fds = std::getenv("LISTEN_FDS");
  if (!pid || !fds || std::to_string(::getpid()) != pid) return -1;
  ::unsetenv("LISTEN_PID");
  ::unsetenv("LISTEN_FDS");
  ::unsetenv("LISTEN_FDNAMES");
  return std::string(fds) == "1" ? 3 : -2;
}

}  // namespace

// The passed socket must be a listening TCP socket on exactly the --listen address, so that
// --listen (and the refusal to serve beyond loopback without --auth) still describe the truth.
proto::result<void> listener::adopt(int fd, const tcp::endpoint& endpoint) {
  int listening = 0;
  socklen_t size = sizeof listening;
  if (fd < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) != 0 || !listening)
    return proto::internal_error("LISTEN_FDS: expected one listening TCP socket on descriptor 3");
  boost::system::error_code ec;
  acceptor_.assign(endpoint.protocol(), fd, ec);
  const auto bound = ec ? tcp::endpoint() : acceptor_.local_endpoint(ec);
  if (ec) return proto::internal_error("LISTEN_FDS: descriptor 3 is not a TCP socket: " + ec.message());
  if (bound.address() != endpoint.address() || (endpoint.port() != 0 && bound.port() != endpoint.port()))
    return proto::internal_error("the socket passed in LISTEN_FDS is bound to " + to_string(bound) +
                                 " but --listen is " + to_string(endpoint));
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  inherited_ = true;
  return {};
}

proto::result<std::shared_ptr<listener>> listener::bind(io_pool& pool, server_context& ctx,
                                                        const tcp::endpoint& endpoint) {
  std::shared_ptr<listener> self(new listener(pool, ctx));
  if (const int fd = passed_socket(); fd != -1) {
    if (auto adopted = self->adopt(fd, endpoint); !adopted) return adopted.error();
    log::info("serving the socket passed by the service manager (LISTEN_FDS)", {{"listen", to_string(endpoint)}});
    return self;
  }
  boost::system::error_code ec;
  auto& a = self->acceptor_;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) return self;
  return proto::internal_error("cannot listen on " + to_string(endpoint) + ": " + ec.message());
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
           "Connection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
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
  acceptor_.async_accept(pool_.context(home).get_executor(),
                         [self = shared_from_this(), home](boost::system::error_code ec, tcp::socket socket) {
                           // A connection accepted just before stop() closed the acceptor is still served: its client
                           // may have sent a request already (the session answers it and closes, as shutdown has
                           // begun).
                           if (!ec) {
                             boost::system::error_code ignored;
                             socket.set_option(tcp::no_delay(true), ignored);
                             if (self->ctx_.sessions.size() >= self->ctx_.settings.max_connections)
                               refuse(std::move(socket));
                             else
                               std::make_shared<http_session>(std::move(socket), self->ctx_, home)->run();
                           }
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
                           self->accept_next();
                         });
}

}  // namespace monolite::server
