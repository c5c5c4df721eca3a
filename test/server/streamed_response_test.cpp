// Streamed responses (server::body_stream) on the wire: chunked pieces in order, trailers, HTTP/1.0,
// HEAD, pipelined requests behind a stream, metrics counted at the end.
#include <boost/test/unit_test.hpp>

#include "test/server/stream_fixture.hpp"

using namespace stream_test;

namespace {

// Delivers the pieces it was given, one per next(), on the strand.
class list_stream : public server::body_stream {
 public:
  explicit list_stream(std::vector<server::piece> pieces) : pieces_(std::move(pieces)) {}
  void next(server::piece_handler deliver) override { deliver(pieces_.at(next_++)); }

 private:
  std::vector<server::piece> pieces_;
  std::size_t next_ = 0;
};

server::handler list_route(std::vector<server::piece> pieces) {
  return [pieces = std::move(pieces)](server::request&&, server::responder respond) {
    respond(server::streamed_response(200, std::make_shared<list_stream>(pieces), "text/plain"));
  };
}

void add_fine(server::router& routes) {
  routes.add("/fine", http::verb::get, server::role::none,
             [](server::request&&, server::responder r) { r(server::json_response(200, R"({"status":"ok"})")); });
}

std::string head_of(const std::string& wire) { return wire.substr(0, wire.find("\r\n\r\n") + 4); }
std::string body_after_head(const std::string& wire) { return wire.substr(wire.find("\r\n\r\n") + 4); }

}  // namespace

BOOST_AUTO_TEST_SUITE(streamed_response)

BOOST_AUTO_TEST_CASE(many_pieces_arrive_whole_and_in_order_chunked) {
  auto seen = std::make_shared<probe>();
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none, stream_route({.pieces = 500, .size = 1000}, seen));
    add_fine(routes);
  });
  client c(server.port());
  c.get("/stream");
  auto a = c.read();
  BOOST_TEST(!a.ec, a.ec.message());
  BOOST_TEST(a.done);
  BOOST_TEST(a.res.result_int() == 200u);
  BOOST_TEST(a.res[http::field::transfer_encoding] == "chunked");
  BOOST_TEST(a.res.count(http::field::content_length) == 0u);
  BOOST_TEST(a.res.body() == body_of(500, 1000));
  BOOST_TEST(seen->nexts == 500);
  // The connection goes on after the stream.
  c.get("/fine");
  auto next = c.read();
  BOOST_TEST(next.res.result_int() == 200u);
  BOOST_TEST(next.res.body() == R"({"status":"ok"})");
}

BOOST_AUTO_TEST_CASE(each_piece_is_one_chunk_empty_ones_are_skipped_and_trailers_follow_the_last) {
  const std::vector<server::piece> pieces{
      {"hello ", false},
      {"", false},
      {"world", true, {{"grpc-status", "0"}, {"grpc-message", "fine"}}},
  };
  running_server server(
      [&](server::router& routes) { routes.add("/stream", http::verb::get, server::role::none, list_route(pieces)); });
  client raw(server.port());
  raw.send("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto wire = raw.read_to_close();
  BOOST_TEST(head_of(wire).find("Transfer-Encoding: chunked\r\n") != std::string::npos, wire);
  BOOST_TEST(body_after_head(wire) == "6\r\nhello \r\n5\r\nworld\r\n0\r\ngrpc-status: 0\r\ngrpc-message: fine\r\n\r\n");

  client beast_client(server.port());  // a real client reads the trailer fields
  beast_client.get("/stream");
  auto a = beast_client.read();
  BOOST_TEST(a.done);
  BOOST_TEST(a.res.body() == "hello world");
  BOOST_TEST(a.res["grpc-status"] == "0");
  BOOST_TEST(a.res["grpc-message"] == "fine");
}

BOOST_AUTO_TEST_CASE(a_producer_delivering_from_a_thread_pool_works) {
  auto seen = std::make_shared<probe>();
  asio::thread_pool producers(2);
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none,
               stream_route({.pieces = 300, .size = 4096, .deliver_from = &producers}, seen));
  });
  client c(server.port());
  c.get("/stream");
  auto a = c.read();
  BOOST_TEST(!a.ec, a.ec.message());
  BOOST_TEST(a.done);
  BOOST_TEST(a.res.body() == body_of(300, 4096));
  BOOST_TEST(seen->max_outstanding == 1);
  producers.join();
}

BOOST_AUTO_TEST_CASE(pipelined_requests_behind_a_stream_are_answered_after_it_in_order) {
  auto seen = std::make_shared<probe>();
  std::promise<void> echoes_answered;
  auto echoes_ready = echoes_answered.get_future().share();
  std::atomic<bool> echoes_were_ready_before_the_end{false};
  asio::thread_pool producers(1);
  script s{.pieces = 50, .size = 2000, .deliver_from = &producers};
  // The last piece waits for the requests behind the stream to have been answered (by their routes).
  s.before_piece = [&](std::size_t i) {
    if (i == 49) echoes_were_ready_before_the_end = ready_within(echoes_ready);
  };
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none, stream_route(s, seen));
    routes.add("/echo", http::verb::get, server::role::none, [&](server::request&& req, server::responder r) {
      const std::string target(req.target());
      r(server::text_response(200, target, "text/plain"));
      if (target == "/echo?2") echoes_answered.set_value();
    });
  });
  client c(server.port());
  c.send(
      "GET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /echo?1 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /echo?2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto first = c.read();
  auto second = c.read();
  auto third = c.read();
  BOOST_TEST(first.done);
  BOOST_TEST(first.res.body() == body_of(50, 2000));
  BOOST_TEST(second.res.body() == "/echo?1");
  BOOST_TEST(third.res.body() == "/echo?2");
  BOOST_TEST(third.res[http::field::connection] == "close");
  BOOST_TEST(echoes_were_ready_before_the_end.load());
  producers.join();
}

BOOST_AUTO_TEST_CASE(an_http_1_0_client_gets_the_raw_body_then_the_close) {
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none,
               stream_route({.pieces = 40, .size = 300}, std::make_shared<probe>()));
  });
  for (const std::string connection : {"", "Connection: keep-alive\r\n"}) {
    client c(server.port());
    c.send("GET /stream HTTP/1.0\r\nHost: x\r\n" + connection + "\r\n");
    const auto wire = c.read_to_close();  // returns only because the server closes
    const auto head = head_of(wire);
    BOOST_TEST(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0u, head);
    BOOST_TEST(head.find("Connection: close\r\n") != std::string::npos, head);
    BOOST_TEST(head.find("Transfer-Encoding") == std::string::npos, head);
    BOOST_TEST(head.find("Content-Length") == std::string::npos, head);
    BOOST_TEST(body_after_head(wire) == body_of(40, 300));
  }
}

BOOST_AUTO_TEST_CASE(head_on_a_streamed_route_gets_the_head_only_and_the_stream_is_cancelled) {
  auto seen = std::make_shared<probe>();
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::head, server::role::none, stream_route({.pieces = 5}, seen));
    add_fine(routes);
  });
  client c(server.port());
  c.send("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /fine HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = c.read(true);
  BOOST_TEST(head.res.result_int() == 200u);
  BOOST_TEST(head.res[http::field::transfer_encoding] == "chunked");
  auto fine = c.read();
  BOOST_TEST(fine.res.result_int() == 200u);
  BOOST_TEST(fine.res.body() == R"({"status":"ok"})");
  BOOST_TEST(ready_within(seen->cancelled_future));
  BOOST_TEST(seen->nexts == 0);
}

// Before: the 405 answer to HEAD carried its JSON body, which the client read as the start of the
// next response.
BOOST_AUTO_TEST_CASE(an_answer_to_head_has_no_body_so_the_next_response_parses) {
  running_server server([&](server::router& routes) { add_fine(routes); });
  client c(server.port());
  c.send("HEAD /fine HTTP/1.1\r\nHost: x\r\n\r\nGET /fine HTTP/1.1\r\nHost: x\r\n\r\n");
  auto head = c.read(true);
  BOOST_TEST(head.res.result_int() == 405u);
  BOOST_TEST(head.res[http::field::content_length] != "0");  // the length a GET would get
  auto fine = c.read();
  BOOST_TEST(!fine.ec, fine.ec.message());
  BOOST_TEST(fine.res.result_int() == 200u);
  BOOST_TEST(fine.res.body() == R"({"status":"ok"})");
}

BOOST_AUTO_TEST_CASE(a_streamed_response_is_counted_when_it_ends) {
  std::promise<void> release_last;
  auto released = release_last.get_future().share();
  asio::thread_pool producers(1);
  script s{.pieces = 3, .deliver_from = &producers};
  s.before_piece = [&](std::size_t i) {
    if (i == 2) ready_within(released);
  };
  running_server server([&](server::router& routes) {
    routes.add("/stream", http::verb::get, server::role::none, stream_route(s, std::make_shared<probe>()));
  });
  const std::string counted = R"(monolite_http_requests_total{route="other",status="200"} 1)";
  client c(server.port());
  c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  // Its head and first pieces are out (the client reads them), its end is not.
  std::string seen;
  asio::read_until(c.socket, asio::dynamic_buffer(seen), "<1>");
  BOOST_TEST(server.metrics().find(counted) == std::string::npos);
  release_last.set_value();
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server.metrics().find(counted) == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  BOOST_TEST(server.metrics().find(counted) != std::string::npos, server.metrics());
  producers.join();
}

BOOST_AUTO_TEST_SUITE_END()
