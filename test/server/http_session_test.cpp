// A route handler that throws is answered 500 INTERNAL as JSON and the server keeps serving.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>
#include <stdexcept>
#include <thread>

#include "server/io_pool.hpp"
#include "server/listener.hpp"
#include "server/server_context.hpp"

using namespace monolite;
namespace asio = boost::asio;

namespace {

// One request on a fresh connection; the whole answer as text (the server closes after it).
std::string exchange(unsigned short port, const std::string& request_text) {
  asio::io_context ioc;
  asio::ip::tcp::socket socket(ioc);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(socket, asio::buffer(request_text));
  std::string answer;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(answer), ec);  // until the server closes
  return answer;
}

struct running_server {
  server::io_pool pool{1};
  server::server_context ctx;
  std::shared_ptr<server::listener> lst;
  std::thread thread;

  running_server() {
    ctx.settings.max_body = 1 << 20;
    ctx.settings.idle_timeout = std::chrono::seconds(5);
    ctx.settings.max_connections = 16;
    ctx.routes.add("/throws", server::http::verb::get, server::role::none,
                   [](server::request&&, server::responder) { throw std::runtime_error("a bug in a handler"); });
    ctx.routes.add("/fine", server::http::verb::get, server::role::none,
                   [](server::request&&, server::responder r) { r(server::json_response(200, R"({"status":"ok"})")); });
    lst = server::listener::bind(pool, ctx, {asio::ip::make_address("127.0.0.1"), 0}).value();
    lst->start();
    thread = std::thread([this] { pool.run(); });
  }
  ~running_server() {
    lst->stop();
    pool.stop();
    thread.join();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_session)

BOOST_AUTO_TEST_CASE(a_throwing_handler_is_answered_500_and_the_server_goes_on) {
  running_server server;
  const auto answer = exchange(server.lst->port(), "GET /throws HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(answer.rfind("HTTP/1.1 500", 0) == 0u, answer);
  BOOST_TEST(answer.find(R"("code":"INTERNAL")") != std::string::npos, answer);
  BOOST_TEST(answer.find("Connection: close") != std::string::npos, answer);
  const auto next = exchange(server.lst->port(), "GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(next.rfind("HTTP/1.1 200", 0) == 0u, next);
}

BOOST_AUTO_TEST_SUITE_END()
