// Fuzzes the HTTP front: bytes → Beast request parser (with the session's header and body limits)
// → router with the real route table (paths, methods, roles) and the real access check against a
// fixed auth config → handlers that check the content type and decode the body with the real
// decoders, answering with the real response encoders.
//
// One input may hold several pipelined requests. Some inputs are fed to the parser in small
// pieces, as a slow client would send them. Every answer must have a status of at least 200 and a
// JSON body (the error shape for 4xx), except a 200 from /metrics, which is Prometheus text; 405s
// carry Allow, 401s WWW-Authenticate. A request whose Authorization is neither a configured token
// nor shaped like a JWT never reaches a protected handler; a configured token reaches exactly the
// routes its role allows. Parse failures are mapped to answers as the session maps them.
#include <strings.h>
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string_view>

#include <openssl/sha.h>

#include "fuzz/statement_as_result.hpp"
#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"
#include "server/access.hpp"
#include "server/responses.hpp"
#include "server/router.hpp"
#include "server/server_context.hpp"

namespace {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;
namespace proto = monolite::proto;
using namespace monolite::server;

constexpr std::size_t body_limit = 64 * 1024;      // --max-body, scaled down
constexpr std::uint32_t header_limit = 16 * 1024;  // as http_session
constexpr int max_requests = 16;                   // per input (per connection)

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz_http_router: %s\n%.*s\n", what,
               static_cast<int>(std::min<std::size_t>(detail.size(), 4096)), detail.data());
  std::abort();
}

void handle_query(request&& req, responder respond) {
  if (auto rejected = reject_unless_json(req)) return respond(std::move(*rejected));
  auto statement = proto::decode_query(req.body());
  if (!statement) return respond(error_response(statement.error()));
  respond(json_response(200, proto::encode_query_response(monolite::fuzz::statement_as_result(*statement), 0.5)));
}

void handle_write(request&& req, responder respond, bool batch) {
  if (auto rejected = reject_unless_json(req)) return respond(std::move(*rejected));
  auto decoded = batch ? proto::decode_batch(req.body()) : proto::decode_execute(req.body());
  if (!decoded) return respond(error_response(decoded.error()));
  std::vector<proto::statement_result> results;
  for (const auto& s : decoded->statements)
    results.push_back(monolite::fuzz::statement_as_result(s));
  respond(json_response(
      200, batch ? proto::encode_batch_response(results, 1.25) : proto::encode_execute_response(results, 1.25)));
}

// Static tokens of the fixed auth config (the corpus and dictionary use them) and an HS256 secret.
constexpr std::string_view read_token = "fuzz-read-token";
constexpr std::string_view write_token = "fuzz-write-token";
constexpr std::string_view admin_token = "fuzz-admin-token";
constexpr std::string_view hs256_secret = "fuzz-hs256-secret";

token_entry entry(std::string name, std::string_view token, role granted) {
  token_entry e;
  e.name = std::move(name);
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), e.sha256.data());
  e.granted = granted;
  return e;
}

struct route_spec {
  std::string_view path;
  http::verb method;
  role needed;
};
constexpr route_spec route_table[] = {
    {"/healthz", http::verb::get, role::none},       {"/readyz", http::verb::get, role::none},
    {"/metrics", http::verb::get, role::admin},      {"/sql/query", http::verb::post, role::read},
    {"/sql/execute", http::verb::post, role::write}, {"/sql/batch", http::verb::post, role::write},
};

struct fixture {
  asio::io_context ioc;
  server_context ctx;   // only its router and auth are used: no actors, no sockets
  std::string reached;  // path of the last handler that ran

  fixture() {
    auto config = std::make_shared<auth_config>();
    config->tokens = {entry("reader", read_token, role::read), entry("app", write_token, role::write),
                      entry("ops", admin_token, role::admin)};
    config->jwt.hs256_secret = std::string(hs256_secret);
    ctx.auth.store(std::shared_ptr<const auth_config>(std::move(config)));
    install_access_check(ctx);
    auto& routes = ctx.routes;
    routes.add("/healthz", http::verb::get, role::none, [this](request&&, responder respond) {
      reached = "/healthz";
      respond(json_response(200, R"({"status":"ok"})"));
    });
    routes.add("/readyz", http::verb::get, role::none, [this](request&&, responder respond) {
      reached = "/readyz";
      respond(json_response(200, R"({"status":"ready"})"));
    });
    routes.add("/metrics", http::verb::get, role::admin, [this](request&&, responder respond) {
      reached = "/metrics";
      respond(text_response(200, "monolite_http_requests_total 1\n", "text/plain; version=0.0.4"));
    });
    routes.add("/sql/query", http::verb::post, role::read, [this](request&& req, responder respond) {
      reached = "/sql/query";
      handle_query(std::move(req), std::move(respond));
    });
    routes.add("/sql/execute", http::verb::post, role::write, [this](request&& req, responder respond) {
      reached = "/sql/execute";
      handle_write(std::move(req), std::move(respond), false);
    });
    routes.add("/sql/batch", http::verb::post, role::write, [this](request&& req, responder respond) {
      reached = "/sql/batch";
      handle_write(std::move(req), std::move(respond), true);
    });
  }
};

fixture& the_fixture() {
  static fixture f;
  return f;
}

// As http_session.cpp's parse_failure.
proto::api_error parse_failure(beast::error_code ec) {
  if (ec == http::error::body_limit) return {413, "BODY_TOO_LARGE", "the request body exceeds --max-body"};
  if (ec == http::error::header_limit) return {431, "HEADERS_TOO_LARGE", "the request headers exceed 16 KiB"};
  return {400, "BAD_REQUEST", "malformed HTTP request: " + ec.message()};
}

std::string_view header_of(const response& res, std::string_view name) {
  for (const auto& [n, v] : res.headers)
    if (n.size() == name.size() && strncasecmp(n.data(), name.data(), n.size()) == 0) return v;
  return {};
}

// The bytes append_wire makes must parse back as exactly this one response.
void check_wire(const response& res, bool keep_alive) {
  std::string wire;
  append_wire(wire, res, keep_alive);
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  beast::error_code ec;
  const auto used = parser.put(asio::buffer(wire), ec);
  if (ec || !parser.is_done() || used != wire.size()) fail("the wire form does not parse as one response", wire);
  const auto& parsed = parser.get();
  if (parsed.result_int() != res.status) fail("the wire form has another status", wire);
  if (parsed.body() != res.body) fail("the wire form has another body", wire);
  if (parsed[http::field::content_type] != res.content_type) fail("the wire form has another content type", wire);
  if (parsed.keep_alive() != keep_alive) fail("the wire form has another connection fate", wire);
  for (const auto& [name, value] : res.headers)
    if (parsed[name] != value) fail("the wire form lost a header", wire);
}

void check_response(const response& res, std::string_view path) {
  const unsigned status = res.status;
  if (status < 200 || status > 599) fail("status outside 200..599", std::to_string(status));
  if (status == 401 && header_of(res, "WWW-Authenticate").substr(0, 6) != "Bearer")
    fail("401 without WWW-Authenticate: Bearer", res.body);
  const auto type = res.content_type;
  if (path == "/metrics" && status == 200) {
    if (type.substr(0, 10) != "text/plain") fail("metrics without text/plain", type);
  } else {
    if (type != "application/json") fail("answer is not application/json", type);
    boost::system::error_code ec;
    const auto body = json::parse(res.body, ec);
    if (ec) fail("answer body is not JSON", res.body);
    if (!body.is_object()) fail("answer body is not an object", res.body);
    if (status >= 400) {
      const auto* error = body.get_object().if_contains("error");
      if (!error || !error->is_object()) fail("error answer without an error object", res.body);
      const auto* code = error->get_object().if_contains("code");
      const auto* message = error->get_object().if_contains("message");
      if (!code || !code->is_string() || code->get_string().empty()) fail("error without a code", res.body);
      if (!message || !message->is_string()) fail("error without a message", res.body);
      if (status == 403 && code->get_string() != "FORBIDDEN") fail("403 that is not FORBIDDEN", res.body);
      if (status == 401 && code->get_string() != "UNAUTHORIZED") fail("401 that is not UNAUTHORIZED", res.body);
    }
    if (status == 405 && header_of(res, "Allow").empty()) fail("405 without Allow", res.body);
  }
  check_wire(res, true);
  check_wire(res, false);
}

// What the Authorization header should grant: a configured token's role, nothing, or (for a
// JWT-shaped token) undecided here.
enum class expectation { denied, jwt, granted };
struct expected_access {
  expectation kind = expectation::denied;
  role granted = role::none;
};

expected_access expected_for(std::string_view header) {
  constexpr std::string_view scheme = "bearer ";
  if (header.size() < scheme.size() || !std::equal(scheme.begin(), scheme.end(), header.begin(), [](char a, char b) {
        return a == std::tolower(static_cast<unsigned char>(b));
      }))
    return {};
  auto token = header.substr(scheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  if (token == read_token) return {expectation::granted, role::read};
  if (token == write_token) return {expectation::granted, role::write};
  if (token == admin_token) return {expectation::granted, role::admin};
  if (std::count(token.begin(), token.end(), '.') == 2) return {expectation::jwt};
  return {};
}

const route_spec* route_for(std::string_view path, http::verb method) {
  for (const auto& r : route_table)
    if (r.path == path && r.method == method) return &r;
  return nullptr;
}

// Dispatches like http_session::dispatch; the fake handlers answer before dispatch returns.
void dispatch(request&& req) {
  auto& f = the_fixture();
  std::string_view target = req.target();
  const std::string path(target.substr(0, target.find('?')));
  const auto* route = route_for(path, req.method());
  const auto access = expected_for(req[http::field::authorization]);
  int calls = 0;
  std::optional<response> answer;
  responder respond;  // set field by field: the struct grows now and then
  respond.executor = f.ioc.get_executor();
  respond.send = [&](response res) {
    ++calls;
    answer = std::move(res);
  };
  f.reached.clear();
  f.ctx.routes.dispatch(std::move(req), std::move(respond));
  if (calls != 1) fail("the router did not answer exactly once", path);
  const unsigned status = answer->status;
  if (route && route->needed != role::none) {
    if (access.kind == expectation::denied && (status != 401 || !f.reached.empty()))
      fail("a request without a valid token was not refused with 401", path);
    if (access.kind == expectation::granted) {
      const bool allowed = access.granted >= route->needed;
      if (allowed && (f.reached != path || status == 401 || status == 403))
        fail("a token with the right role did not reach its route", path);
      if (!allowed && (status != 403 || !f.reached.empty()))
        fail("a token with too weak a role was not refused with 403", path);
    }
  } else if (route) {
    if (f.reached != path) fail("an open route was not reached", path);
  } else if (!f.reached.empty() || (status != 404 && status != 405)) {
    fail("an unknown route or method did not get 404 or 405", path);
  }
  check_response(*answer, path);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // A third of the inputs arrive in small pieces, the rest all at once.
  const std::size_t piece = size % 3 == 0 ? 1 + size % 61 : std::numeric_limits<std::size_t>::max();

  for (int requests = 0; requests < max_requests && !input.empty(); ++requests) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(body_limit);
    parser.header_limit(header_limit);
    parser.eager(true);
    beast::error_code ec;
    std::size_t available = std::min(piece, input.size());  // bytes "received" and not yet consumed
    while (!parser.is_done()) {
      const auto used = parser.put(asio::buffer(input.data(), available), ec);
      input.remove_prefix(used);
      available -= used;
      if (ec == http::error::need_more) {
        // Beast wants more bytes than it was given (a read loop never calls put() again without
        // new data): grow the window, or at the end of the input, the client closed.
        ec = {};
        if (available == input.size()) {
          parser.put_eof(ec);
          break;
        }
        available = std::min(input.size(), available + piece);
        continue;
      }
      if (ec) break;
      if (used == 0 && !parser.is_done()) return 0;  // no progress: never expected, but never spin
    }
    if (ec) {
      // The session answers a malformed or oversized request as JSON, then closes.
      check_response(error_response(parse_failure(ec)), "");
      return 0;
    }
    if (!parser.is_done()) return 0;  // the client went away mid-request
    auto req = parser.release();
    const bool keep_alive = req.keep_alive();
    dispatch(std::move(req));
    if (!keep_alive) return 0;
  }
  return 0;
}
