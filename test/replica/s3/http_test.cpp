// s3_http against a scripted loopback server: keep-alive reuse, the one retry on a stale pooled
// connection (and none on a fresh one), deadlines, refused connections, many threads at once.
#include "replica/s3/http.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "replica/s3/fake_http_server.hpp"

using namespace monolite::replica;
using monolite::test::fake_http_server;
using std::chrono::milliseconds;

namespace {

s3_endpoint loopback(const std::string& port) { return {false, "127.0.0.1", port}; }

http_request put_request(std::string_view body = "payload") {
  return {"PUT", "/bucket/key", {{"Host", "127.0.0.1"}}, body};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replica_s3_http)

BOOST_AUTO_TEST_CASE(keep_alive_connections_are_reused) {
  fake_http_server server(fake_http_server::behaviour::keep_alive);
  s3_http client(loopback(server.port()), {});
  for (int i = 1; i <= 3; ++i) {
    auto reply = client.send(put_request());
    BOOST_REQUIRE_MESSAGE(reply.has_value(), reply.error().message);
    BOOST_TEST(reply->status == 200u);
    BOOST_TEST(reply->body == std::to_string(i));
    BOOST_TEST(reply->etag == "\"e" + std::to_string(i) + "\"");
  }
  BOOST_TEST(client.connections_opened() == 1u);
  BOOST_TEST(server.connections() == 1);
  BOOST_TEST(client.idle_connections() == 1u);
}

BOOST_AUTO_TEST_CASE(a_streamed_body_goes_to_the_sink_and_a_200_to_a_range_drops_its_head) {
  fake_http_server server(fake_http_server::behaviour::keep_alive);  // bodies "1", "2", … "10", "11"
  s3_http client(loopback(server.port()), {});
  std::string seen;
  const byte_sink sink = [&](std::string_view piece) { return seen.append(piece), true; };
  http_request request{"GET", "/bucket/key", {{"Host", "127.0.0.1"}}, {}, &sink};
  auto whole = client.send(request);
  BOOST_REQUIRE_MESSAGE(whole.has_value(), whole.error().message);
  BOOST_TEST(seen == "1");
  BOOST_TEST(whole->body.empty());
  for (int i = 2; i <= 9; ++i)
    BOOST_REQUIRE(client.send(put_request()).has_value());
  seen.clear();
  request.range_from = 1;  // the server answers 200 with all of "10": its first byte is dropped
  auto ranged = client.send(request);
  BOOST_REQUIRE_MESSAGE(ranged.has_value(), ranged.error().message);
  BOOST_TEST(seen == "0");
}

BOOST_AUTO_TEST_CASE(a_stale_pooled_connection_is_retried_once_on_a_new_one) {
  fake_http_server server(fake_http_server::behaviour::close_on_second_request);
  s3_http client(loopback(server.port()), {});
  BOOST_REQUIRE(client.send(put_request()).has_value());
  // The pooled connection looks fine, but the server closes it when the request arrives.
  auto reply = client.send(put_request());
  BOOST_REQUIRE_MESSAGE(reply.has_value(), reply.error().message);
  BOOST_TEST(reply->body == "3");  // request 2 died with the old connection, 3 is the retry
  BOOST_TEST(client.connections_opened() == 2u);
  BOOST_TEST(server.requests() == 3);
}

BOOST_AUTO_TEST_CASE(a_fresh_connection_is_not_retried) {
  fake_http_server server(fake_http_server::behaviour::close_without_reply);
  s3_http client(loopback(server.port()), {});
  auto reply = client.send(put_request());
  BOOST_REQUIRE(reply.has_error());
  BOOST_TEST((reply.error().kind == store_failure::unreachable));
  BOOST_TEST(reply.error().message.find("receive") != std::string::npos, reply.error().message);
  BOOST_TEST(server.requests() == 1);
  BOOST_TEST(client.idle_connections() == 0u);
}

BOOST_AUTO_TEST_CASE(a_silent_server_times_out) {
  fake_http_server server(fake_http_server::behaviour::never_reply);
  s3_http client(loopback(server.port()), {milliseconds(1000), milliseconds(300)});
  const auto start = std::chrono::steady_clock::now();
  auto reply = client.send(put_request());
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_REQUIRE(reply.has_error());
  BOOST_TEST((reply.error().kind == store_failure::unreachable));
  BOOST_TEST(reply.error().message.find("timed out after 300 ms") != std::string::npos, reply.error().message);
  BOOST_TEST(took >= milliseconds(250));
  BOOST_TEST(took < milliseconds(3000));
  BOOST_TEST(server.requests() == 1);  // a timeout is not a stale connection: no second attempt
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_unreachable) {
  std::string port;
  {
    fake_http_server closed(fake_http_server::behaviour::keep_alive);
    port = closed.port();
  }
  s3_http client(loopback(port), {});
  auto reply = client.send(put_request());
  BOOST_REQUIRE(reply.has_error());
  BOOST_TEST((reply.error().kind == store_failure::unreachable));
  BOOST_TEST(reply.error().message.find("connect") != std::string::npos, reply.error().message);
  BOOST_TEST(reply.error().message.find("127.0.0.1:" + port) != std::string::npos, reply.error().message);
}

BOOST_AUTO_TEST_CASE(an_unknown_method_is_refused_before_sending) {
  s3_http client(loopback("1"), {});
  auto reply = client.send({"FROB", "/", {}, {}});
  BOOST_REQUIRE(reply.has_error());
  BOOST_TEST((reply.error().kind == store_failure::other));
}

BOOST_AUTO_TEST_CASE(many_threads_share_one_client) {
  fake_http_server server(fake_http_server::behaviour::keep_alive);
  s3_http client(loopback(server.port()), {});
  constexpr int threads = 8, each = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      const std::string body(1000, 'x');
      for (int i = 0; i < each; ++i) {
        auto reply = client.send(put_request(body));
        if (!reply || reply->status != 200) ++failures;
      }
    });
  }
  for (auto& w : workers)
    w.join();
  BOOST_TEST(failures == 0);
  BOOST_TEST(server.requests() == threads * each);
  BOOST_TEST(client.connections_opened() <= static_cast<std::size_t>(threads) * 2);
  BOOST_TEST(client.idle_connections() <= s3_http::max_idle_connections);
}

BOOST_AUTO_TEST_SUITE_END()
