// Streamed responses at their limits: a client that goes away or reads slowly, a producer that fails
// or stalls, a server that shuts down. Each ends in cancel() (or not, for a failure) and a bounded,
// truncated or closed stream, never a producer asked for more.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "test/server/stream_fixture.hpp"

using namespace stream_test;

namespace {

// The most a socket's send buffer grows to (net.ipv4.tcp_wmem's maximum).
std::size_t send_buffer_max() {
  std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
  std::size_t low = 0, initial = 0, max = 0;
  in >> low >> initial >> max;
  return max > 0 ? max : 4 << 20;
}

// Blocks piece `from` and later until the stream is cancelled (a producer with nothing to say).
std::function<void(std::size_t)> stall_from(std::size_t from, const std::shared_ptr<probe>& seen) {
  return [from, cancelled = seen->cancelled_future](std::size_t i) {
    if (i >= from) ready_within(cancelled);
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(streamed_response_limits)

BOOST_AUTO_TEST_CASE(a_client_that_disconnects_mid_stream_cancels_it_and_it_is_asked_no_more) {
  auto seen = std::make_shared<probe>();
  asio::thread_pool producers(2);
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none,
               stream_route({.size = 64 * 1024, .deliver_from = &producers, .endless = true}, seen));
  });
  {
    client c(server.port());
    c.get("/stream");
    std::string some;
    asio::read(c.socket, asio::dynamic_buffer(some), asio::transfer_at_least(1 << 20));
    c.abort();
  }
  BOOST_REQUIRE(ready_within(seen->cancelled_future));
  // The session lets go of the stream once closed; by then nothing asked it for more.
  BOOST_REQUIRE(ready_within(seen->destroyed_future));
  BOOST_TEST(seen->cancels == 1);
  BOOST_TEST(seen->nexts_after_cancel == 0);
  producers.join();
}

// A producer that could go on for 1 GiB, in 1 MiB pieces, to a client with a small receive buffer that
// first reads nothing, then slowly: it is asked for a piece only once the previous one is written.
BOOST_AUTO_TEST_CASE(a_slow_reader_keeps_the_producer_to_one_piece_outstanding) {
  constexpr std::size_t piece_size = 1 << 20;
  auto seen = std::make_shared<probe>();
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none,
               stream_route({.pieces = 1024, .size = piece_size}, seen));
  });
  client c(server.port(), 64 * 1024);
  asio::socket_base::receive_buffer_size receive_buffer;
  c.socket.get_option(receive_buffer);
  // What the kernel may hold between the session and the client: the session's send buffer and the
  // client's receive buffer. Anything the producer was asked for beyond that sits in the session.
  const std::size_t in_kernel = send_buffer_max() + static_cast<std::size_t>(receive_buffer.value());
  c.get("/stream");
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (seen->nexts < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  BOOST_REQUIRE(seen->nexts >= 2);

  std::size_t read = 0;
  std::size_t most_ahead = 0;  // pieces asked for beyond what the client read and the kernel holds
  std::vector<char> sink(64 * 1024);
  while (read < 32 * piece_size) {
    const auto asked = static_cast<std::size_t>(seen->nexts.load()) * piece_size;
    if (asked > read + in_kernel) most_ahead = std::max(most_ahead, (asked - read - in_kernel) / piece_size);
    read += c.socket.read_some(asio::buffer(sink));
  }
  c.abort();
  BOOST_REQUIRE(ready_within(seen->cancelled_future));
  BOOST_TEST(most_ahead <= 1u);  // the piece being written
  BOOST_TEST(seen->max_outstanding == 1);
  BOOST_TEST(seen->nexts < 1024);
}

BOOST_AUTO_TEST_CASE(a_failure_mid_stream_closes_without_the_terminating_chunk) {
  auto seen = std::make_shared<probe>();
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none, stream_route({.pieces = 10, .fail_at = 3}, seen));
  });
  client beast_client(server.port());
  beast_client.get("/stream");
  auto a = beast_client.read();
  BOOST_TEST(!a.done);
  BOOST_TEST((a.ec == http::error::partial_message), a.ec.message());
  BOOST_TEST(a.res.body() == body_of(3, 100));

  client raw(server.port());
  raw.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto wire = raw.read_to_close();
  BOOST_TEST(wire.ends_with(piece_text(2, 100) + "\r\n"), wire);  // the last chunk written, then nothing
  BOOST_REQUIRE(ready_within(seen->destroyed_future));
  BOOST_TEST(seen->cancels == 0);  // a failed stream has ended: nothing to cancel
}

BOOST_AUTO_TEST_CASE(a_stalled_producer_is_cancelled_after_the_idle_timeout) {
  auto seen = std::make_shared<probe>();
  asio::thread_pool producers(1);
  script s{.size = 10, .deliver_from = &producers, .endless = true};
  s.before_piece = stall_from(1, seen);
  running_server server(
      [&](server::router& routes) {
        routes.add("/stream", http::verb::get, server::role::none, stream_route(s, seen));
      },
      300ms);
  client c(server.port());
  c.get("/stream");
  auto a = c.read();  // returns when the server closes
  BOOST_TEST(!a.done);
  BOOST_TEST(a.res.body() == piece_text(0, 10));
  BOOST_TEST(ready_within(seen->cancelled_future));
  producers.join();  // the stalled piece is delivered after the cancel, and ignored
  BOOST_TEST(seen->nexts == 2);
}

BOOST_AUTO_TEST_CASE(a_stream_that_keeps_delivering_outlives_the_idle_timeout) {
  asio::thread_pool producers(1);
  script s{.pieces = 8, .deliver_from = &producers};
  // A slow producer: each piece takes a fifth of the idle timeout, the whole body 1.6 of it.
  s.before_piece = [](std::size_t) { std::this_thread::sleep_for(100ms); };
  running_server server(
      [&](server::router& routes) {
        routes.add("/stream", http::verb::get, server::role::none, stream_route(s, std::make_shared<probe>()));
      },
      500ms);
  client c(server.port());
  c.get("/stream");
  auto a = c.read();
  BOOST_TEST(a.done, a.ec.message());
  BOOST_TEST(a.res.body() == body_of(8, 100));
  producers.join();
}

BOOST_AUTO_TEST_CASE(shutdown_cancels_a_stream_and_closes_its_connection) {
  auto seen = std::make_shared<probe>();
  asio::thread_pool producers(1);
  script s{.size = 10, .deliver_from = &producers, .endless = true};
  s.before_piece = stall_from(1, seen);
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none, stream_route(s, seen));
  });
  client c(server.port());
  c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string wire;
  asio::read_until(c.socket, asio::dynamic_buffer(wire), piece_text(0, 10) + "\r\n");
  server.finish_sessions();
  BOOST_TEST(ready_within(seen->cancelled_future));
  boost::system::error_code ec;
  asio::read(c.socket, asio::dynamic_buffer(wire), ec);  // until the server closes
  BOOST_TEST(wire.ends_with(piece_text(0, 10) + "\r\n"), wire);
  producers.join();
}

BOOST_AUTO_TEST_SUITE_END()
