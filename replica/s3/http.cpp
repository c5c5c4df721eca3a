#include "replica/s3/http.hpp"

#include <sys/socket.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/span_body.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <cerrno>
#include <vector>

namespace monolite::replica {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using beast::error_code;

struct s3_connection {
  asio::io_context ioc;  // declared first: the streams below must be destroyed before it
  std::unique_ptr<beast::tcp_stream> plain;
  std::unique_ptr<beast::ssl_stream<beast::tcp_stream>> secure;
  beast::flat_buffer buffer;
  clock_type::time_point idle_since;

  beast::tcp_stream& tcp() { return secure ? beast::get_lowest_layer(*secure) : *plain; }

  template <class F>
  void with_stream(F&& f) {
    if (secure)
      f(*secure);
    else
      f(*plain);
  }

  // True when the peer closed the connection (or sent something unasked) while it sat idle:
  // a non-blocking peek sees end-of-file or data instead of "nothing yet".
  bool closed_while_idle() {
    char byte;
    const ssize_t n = ::recv(tcp().socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
  }
};

namespace {

// Runs `ioc` until the operation `start` launches on it has completed, and returns its error.
// Deadlines come from the stream's own timer (tcp_stream::expires_at).
template <class Start>
error_code run_operation(asio::io_context& ioc, Start&& start) {
  error_code result = asio::error::would_block;
  ioc.restart();
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc.run();
  return result;
}

bool is_ip_address(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

bool is_timeout(const error_code& ec) { return ec == beast::error::timeout || ec == asio::error::timed_out; }

std::string describe_error(const error_code& ec, std::chrono::milliseconds limit) {
  if (is_timeout(ec)) return "timed out after " + std::to_string(limit.count()) + " ms";
  return ec.message();
}

// getaddrinfo cannot be interrupted: past the deadline the lookup is cancelled and we wait for
// it to return, which the resolver's own timeouts bound.
error_code resolve(s3_connection& conn, const s3_endpoint& endpoint, clock_type::time_point deadline,
                   tcp::resolver::results_type& addresses) {
  tcp::resolver resolver(conn.ioc);
  error_code ec = asio::error::would_block;
  conn.ioc.restart();
  resolver.async_resolve(endpoint.host, endpoint.port, [&](error_code e, tcp::resolver::results_type r) {
    ec = e;
    addresses = std::move(r);
  });
  conn.ioc.run_until(deadline);
  if (ec != asio::error::would_block) return ec;
  resolver.cancel();
  conn.ioc.run();
  return beast::error::timeout;
}

error_code connect(s3_connection& conn, const tcp::resolver::results_type& addresses, clock_type::time_point deadline) {
  conn.tcp().expires_at(deadline);
  error_code ec =
      run_operation(conn.ioc, [&](auto handler) { conn.tcp().async_connect(addresses, std::move(handler)); });
  if (!ec) conn.tcp().socket().set_option(tcp::no_delay(true), ec);
  return ec;
}

// Certificate checked against the system CA store and the endpoint's name (or address); SNI sent
// for names only, as RFC 6066 wants.
error_code handshake(s3_connection& conn, const std::string& host, clock_type::time_point deadline) {
  if (!is_ip_address(host)) SSL_set_tlsext_host_name(conn.secure->native_handle(), host.c_str());
  conn.secure->set_verify_callback(ssl::host_name_verification(host));
  conn.tcp().expires_at(deadline);
  return run_operation(
      conn.ioc, [&](auto handler) { conn.secure->async_handshake(ssl::stream_base::client, std::move(handler)); });
}

error_code write_request(s3_connection& conn, const http_request& request) {
  http::request<http::span_body<const char>> req{http::string_to_verb(request.method), request.target, 11};
  for (const auto& [name, value] : request.headers)
    req.set(name, value);
  req.body() = {request.body.data(), request.body.size()};
  req.prepare_payload();
  return run_operation(conn.ioc, [&](auto handler) {
    conn.with_stream([&](auto& stream) { http::async_write(stream, req, std::move(handler)); });
  });
}

}  // namespace

struct s3_http::attempt_result {
  store_result<http_reply> reply;
  bool nothing_received = false;  // failed before a byte of the reply arrived (and not by timeout)
  bool reusable = false;          // the connection may serve another request
};

s3_http::s3_http(s3_endpoint endpoint, http_timeouts timeouts) : endpoint_(std::move(endpoint)), timeouts_(timeouts) {
  if (!endpoint_.tls) return;
  tls_ = std::make_unique<ssl::context>(ssl::context::tls_client);
  error_code ignored;  // without the system store every handshake fails, with a clear message
  tls_->set_default_verify_paths(ignored);
  tls_->set_verify_mode(ssl::verify_peer, ignored);
  SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
}

s3_http::~s3_http() = default;

std::size_t s3_http::connections_opened() const {
  std::lock_guard lock(mutex_);
  return opened_;
}

std::size_t s3_http::idle_connections() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

store_error s3_http::unreachable(std::string_view step, std::string_view detail) const {
  return {store_failure::unreachable,
          "cannot reach " + endpoint_.url() + ": " + std::string(step) + ": " + std::string(detail)};
}

std::unique_ptr<s3_connection> s3_http::take_idle() {
  std::lock_guard lock(mutex_);
  while (!idle_.empty()) {
    std::unique_ptr<s3_connection> conn = std::move(idle_.back());
    idle_.pop_back();
    if (clock_type::now() - conn->idle_since < max_idle_time && !conn->closed_while_idle()) return conn;
  }
  return nullptr;
}

void s3_http::give_back(std::unique_ptr<s3_connection> conn) {
  conn->idle_since = clock_type::now();
  std::lock_guard lock(mutex_);
  if (idle_.size() < max_idle_connections) idle_.push_back(std::move(conn));
}

store_result<std::unique_ptr<s3_connection>> s3_http::open_connection() {
  auto conn = std::make_unique<s3_connection>();
  const auto deadline = clock_type::now() + timeouts_.connect;
  tcp::resolver::results_type addresses;
  if (auto ec = resolve(*conn, endpoint_, deadline, addresses))
    return unreachable("resolve", describe_error(ec, timeouts_.connect));
  if (tls_) {
    conn->secure = std::make_unique<beast::ssl_stream<beast::tcp_stream>>(conn->ioc, *tls_);
  } else {
    conn->plain = std::make_unique<beast::tcp_stream>(conn->ioc);
  }
  if (auto ec = connect(*conn, addresses, deadline))
    return unreachable("connect", describe_error(ec, timeouts_.connect));
  if (tls_) {
    if (auto ec = handshake(*conn, endpoint_.host, deadline)) {
      auto error = unreachable("TLS handshake", describe_error(ec, timeouts_.connect));
      // The peer's certificate is refused (unknown CA, wrong name, expired): trying again changes
      // nothing, so it is not worth a retry. A reset or a timeout during the handshake is.
      if (ec.category() == asio::error::get_ssl_category()) error.kind = store_failure::other;
      return error;
    }
  }
  std::lock_guard lock(mutex_);
  ++opened_;
  return conn;
}

s3_http::attempt_result s3_http::attempt(s3_connection& conn, const http_request& request) {
  const auto fail = [&](std::string_view step, const error_code& ec, bool nothing_received) {
    return attempt_result{unreachable(request.method + " " + request.target + ": " + std::string(step),
                                      describe_error(ec, timeouts_.request)),
                          nothing_received && !is_timeout(ec), false};
  };
  conn.buffer.clear();
  conn.tcp().expires_after(timeouts_.request);  // one deadline for writing and reading (but streams)
  if (auto ec = write_request(conn, request)) return fail("send", ec, true);
  return read_reply(conn, request);
}

// The reply's body is read in pieces into a buffer of ours: collected, or handed to the request's
// sink as it comes (an object larger than memory).
s3_http::attempt_result s3_http::read_reply(s3_connection& conn, const http_request& request) {
  const auto fail = [&](std::string_view step, const error_code& ec, bool nothing_received) {
    return attempt_result{unreachable(request.method + " " + request.target + ": " + std::string(step),
                                      describe_error(ec, timeouts_.request)),
                          nothing_received && !is_timeout(ec), false};
  };
  const auto read = [&](auto& parser, auto start) {
    return run_operation(conn.ioc, [&](auto handler) {
      conn.with_stream([&](auto& stream) { start(stream, parser, std::move(handler)); });
    });
  };
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  parser.header_limit(64 * 1024);
  error_code ec =
      read(parser, [&](auto& s, auto& p, auto h) { http::async_read_header(s, conn.buffer, p, std::move(h)); });
  if (ec) return fail("receive", ec, !parser.got_some() && conn.buffer.size() == 0);
  const unsigned status = parser.get().result_int();
  const bool streamed = request.body_sink && status / 100 == 2;
  std::uint64_t skip = status == 200 ? request.range_from : 0;
  std::string body;
  std::vector<char> piece(streamed ? std::size_t{1} << 20 : std::size_t{64} << 10);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    if (streamed) conn.tcp().expires_after(timeouts_.request);
    ec = read(parser, [&](auto& s, auto& p, auto h) { http::async_read(s, conn.buffer, p, std::move(h)); });
    if (ec == http::error::need_buffer) ec = {};
    // What arrived before a failure is handed on too: a resumed download starts after it.
    std::string_view got(piece.data(), piece.size() - parser.get().body().size);
    if (!streamed) {
      body.append(got);
    } else {
      const auto dropped = static_cast<std::size_t>(std::min<std::uint64_t>(skip, got.size()));
      skip -= dropped, got.remove_prefix(dropped);
      if (!got.empty() && !(*request.body_sink)(got))
        return {store_error{store_failure::other, request.method + " " + request.target + ": stopped by the reader"},
                false, false};
    }
    if (ec) return fail("receive", ec, false);
  }
  auto& response = parser.get();
  http_reply reply{status, std::move(body), std::string(response[http::field::etag]), {}};
  for (const auto& field : response) {
    std::string name(field.name_string());
    for (char& c : name)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    reply.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  return {std::move(reply), false, response.keep_alive() && conn.buffer.size() == 0};
}

store_result<http_reply> s3_http::send(const http_request& request) try {
  if (http::string_to_verb(request.method) == http::verb::unknown)
    return store_error{store_failure::other, "unknown HTTP method " + request.method};
  if (auto conn = take_idle()) {
    attempt_result result = attempt(*conn, request);
    if (result.reusable) give_back(std::move(conn));
    // A kept-alive connection the server closed just now fails before replying: retry once, anew.
    if (result.reply || !result.nothing_received) return std::move(result.reply);
  }
  auto conn = open_connection();
  if (!conn) return conn.error();
  attempt_result result = attempt(**conn, request);
  if (result.reusable) give_back(std::move(*conn));
  return std::move(result.reply);
} catch (const std::exception& e) {  // resource exhaustion inside Asio (threads, descriptors)
  return store_error{store_failure::unreachable, request.method + " " + endpoint_.url() + ": " + e.what()};
}

}  // namespace monolite::replica
