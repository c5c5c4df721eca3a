// For the streamed-response tests: a real server on loopback with routes the test adds, a scripted
// body_stream that reports what the session asked of it, and clients (Beast's, and raw bytes).
#pragma once
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "server/http_session.hpp"
#include "server/io_pool.hpp"
#include "server/listener.hpp"
#include "server/server_context.hpp"

namespace stream_test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using namespace monolite;
using namespace std::chrono_literals;

struct running_server {
  server::io_pool pool{1};
  server::server_context ctx;
  std::shared_ptr<server::listener> lst;
  std::thread thread;

  explicit running_server(const std::function<void(server::router&)>& add_routes,
                          std::chrono::milliseconds idle_timeout = 5s) {
    ctx.settings.max_body = 1 << 20;
    ctx.settings.idle_timeout = idle_timeout;
    ctx.settings.max_connections = 16;
    add_routes(ctx.routes);
    lst = server::listener::bind(pool, ctx, {asio::ip::make_address("127.0.0.1"), 0}).value();
    lst->start();
    thread = std::thread([this] { pool.run(); });
  }
  ~running_server() {
    lst->stop();
    pool.stop();
    thread.join();
  }
  unsigned short port() const { return lst->port(); }
  // What shutdown does to every open connection.
  void finish_sessions() {
    ctx.sessions.for_each([](const std::shared_ptr<server::http_session>& s) { s->finish(); });
  }
  std::string metrics() const {
    std::string out;
    ctx.metrics.append_prometheus(out);
    return out;
  }
};

// Piece `i` of a test body: its index, then filler up to `size` bytes (so order and loss both show).
inline std::string piece_text(std::size_t i, std::size_t size) {
  auto text = "<" + std::to_string(i) + ">";
  text.resize(std::max(size, text.size()), static_cast<char>('a' + i % 26));
  return text;
}
inline std::string body_of(std::size_t pieces, std::size_t size) {
  std::string body;
  for (std::size_t i = 0; i < pieces; ++i)
    body += piece_text(i, size);
  return body;
}

// What a stream saw; shared by the test and the stream (which the session owns and destroys).
struct probe {
  std::atomic<int> nexts{0};
  std::atomic<int> nexts_after_cancel{0};
  std::atomic<int> cancels{0};
  std::atomic<int> destroys{0};
  std::atomic<int> outstanding{0};  // delivered, and next() not called since (so not yet written)
  std::atomic<int> max_outstanding{0};
  std::promise<void> cancelled;
  std::promise<void> destroyed;
  std::shared_future<void> cancelled_future = cancelled.get_future().share();
  std::shared_future<void> destroyed_future = destroyed.get_future().share();
};

// Delivers `pieces` pieces of `size` bytes, then ends (with `trailers`) or, at `fail_at`, fails.
// With a thread pool it delivers from there; else at once, on the strand. `before_piece(i)` may
// block (on a pool thread) to hold piece i back.
struct script {
  std::size_t pieces = 10;
  std::size_t size = 100;
  std::optional<std::size_t> fail_at{};
  std::vector<std::pair<std::string, std::string>> trailers{};
  asio::thread_pool* deliver_from = nullptr;
  std::function<void(std::size_t)> before_piece{};
  bool endless = false;  // never ends: the client or the server has to stop it
};

class scripted_stream : public server::body_stream {
 public:
  scripted_stream(script s, std::shared_ptr<probe> p) : script_(std::move(s)), probe_(std::move(p)) {}
  ~scripted_stream() override {
    if (probe_->destroys++ == 0) probe_->destroyed.set_value();
  }

  void next(server::piece_handler deliver) override {
    const auto i = next_index_++;
    ++probe_->nexts;
    if (probe_->cancels > 0) ++probe_->nexts_after_cancel;
    if (i > 0) --probe_->outstanding;  // asking again means the previous piece is written
    auto produce = [deliver = std::move(deliver), s = script_, p = probe_, i] {
      if (s.before_piece) s.before_piece(i);
      const int now = ++p->outstanding;
      for (int seen = p->max_outstanding; now > seen && !p->max_outstanding.compare_exchange_weak(seen, now);) {}
      deliver(make_piece(s, i));
    };
    if (script_.deliver_from) return asio::post(*script_.deliver_from, std::move(produce));
    produce();
  }
  void cancel() override {
    if (probe_->cancels++ == 0) probe_->cancelled.set_value();
  }

 private:
  static server::piece_result make_piece(const script& s, std::size_t i) {
    if (s.fail_at && i == *s.fail_at) return boost::system::errc::make_error_code(boost::system::errc::io_error);
    const bool last = !s.endless && i + 1 >= s.pieces;
    return server::piece{piece_text(i, s.size), last, last ? s.trailers : decltype(s.trailers){}};
  }
  script script_;
  std::shared_ptr<probe> probe_;
  std::size_t next_index_ = 0;
};

inline server::handler stream_route(script s, std::shared_ptr<probe> p) {
  return [s = std::move(s), p = std::move(p)](server::request&&, server::responder respond) {
    respond(server::streamed_response(200, std::make_shared<scripted_stream>(s, p), "application/octet-stream"));
  };
}

inline bool ready_within(const std::shared_future<void>& f, std::chrono::seconds limit = 10s) {
  return f.wait_for(limit) == std::future_status::ready;
}

struct client {
  asio::io_context ioc;
  asio::ip::tcp::socket socket{ioc};
  beast::flat_buffer buffer;

  // `receive_buffer`: the socket's SO_RCVBUF (0: the system's), set before connecting so it holds.
  explicit client(unsigned short port, int receive_buffer = 0) {
    socket.open(asio::ip::tcp::v4());
    if (receive_buffer > 0) socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
  }
  // Closes with a reset, as a client that goes away with unread data does.
  void abort() {
    socket.set_option(asio::socket_base::linger(true, 0));
    socket.close();
  }
  void send(const std::string& raw) { asio::write(socket, asio::buffer(raw)); }
  void get(const std::string& target, bool keep_alive = true) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "x");
    req.keep_alive(keep_alive);
    http::write(socket, req);
  }
  // The next response, as Beast's client parses it; the error says if it was cut short.
  struct answer {
    http::response<http::string_body> res;
    beast::error_code ec;
    bool done = false;
  };
  answer read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(head);
    answer a;
    http::read(socket, buffer, parser, a.ec);
    a.done = parser.is_done();
    a.res = parser.release();
    return a;
  }
  // Every byte until the server closes (what was buffered by read() first).
  std::string read_to_close() {
    std::string out(static_cast<const char*>(buffer.data().data()), buffer.size());
    buffer.clear();
    beast::error_code ec;
    asio::read(socket, asio::dynamic_buffer(out), ec);
    return out;
  }
};

}  // namespace stream_test
