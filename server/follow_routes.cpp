#include "server/follow_routes.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <charconv>
#include <filesystem>

#include "actors/follower.hpp"
#include "common/log.hpp"
#include "proto/sql_request.hpp"
#include "server/statement_recording.hpp"

namespace monolite::server {
namespace asio = boost::asio;
namespace {

constexpr std::chrono::milliseconds min_frame_wait{5000};

// Forwarded requests block on the primary: a few threads of their own, never the HTTP threads.
struct forwarder {
  asio::thread_pool threads{4};
  ~forwarder() { threads.join(); }
};

response primary_unreachable(const std::string& why) {
  return error_response({502, "PRIMARY_UNREACHABLE", "the primary cannot be reached: " + why});
}

response relay(const replica::http_reply& reply) {
  std::string_view type = "application/json";
  response res;
  res.status = reply.status;
  res.body = reply.body;
  for (const auto& [name, value] : reply.headers) {
    if (name == "content-type" && value.rfind("application/json", 0) != 0) type = "text/plain";
    if (name == "x-monolite-frame") res.set(frame_header, value);
    if (name == "retry-after") res.set("Retry-After", value);
  }
  res.content_type = type;
  return res;
}

void forward(server_context& ctx, const std::shared_ptr<forwarder>& fw, request&& req, responder respond) {
  auto body = std::make_shared<std::string>(std::move(req.body()));
  replica::http_request out{"POST", std::string(req.target()), {}, *body};
  auto& client = ctx.follower->client();
  out.headers = {{"Host", client.primary().authority()}};
  const auto type = req[http::field::content_type];
  out.headers.emplace_back("Content-Type", type.empty() ? "application/json" : std::string(type));
  if (const auto auth = req[http::field::authorization]; !auth.empty()) {
    out.headers.emplace_back("Authorization", std::string(auth));
  } else if (!client.token().empty()) {
    out.headers.emplace_back("Authorization", "Bearer " + client.token());
  }
  asio::post(fw->threads, [&client, body, out = std::move(out), respond = std::move(respond)] {
    auto reply = client.forward(out);
    asio::post(respond.executor, [reply = std::move(reply), respond] {
      respond(reply ? relay(*reply) : primary_unreachable(reply.error().message));
    });
  });
}

void run_query(server_context& ctx, proto::statement statement, responder respond) {
  ctx.engine->query(std::move(statement), respond.executor, respond.home, [respond](actors::read_outcome outcome) {
    if (!outcome.result) return respond(error_response(outcome.result.error()));
    respond(json_response(200, proto::encode_query_response(*outcome.result, outcome.time_ms)));
  });
}

void handle_query(server_context& ctx, request&& req, responder respond) {
  if (auto rejected = reject_unless_json(req)) return respond(std::move(*rejected));
  if (!ctx.ready.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("no copy yet")));
  auto statement = proto::decode_query(req.body());
  if (!statement) return respond(error_response(statement.error()));
  record_statement(ctx, *statement);
  const auto wanted = req[min_frame_header];
  if (wanted.empty()) return run_query(ctx, std::move(*statement), std::move(respond));
  std::uint64_t frame = 0;
  const auto [end, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), frame);
  if (ec != std::errc{} || end != wanted.data() + wanted.size())
    return respond(error_response(proto::bad_request("X-Monolite-Min-Frame must be a frame number")));
  if (ctx.follower->applied(frame)) return run_query(ctx, std::move(*statement), std::move(respond));
  auto held = std::make_shared<proto::statement>(std::move(*statement));
  ctx.follower->wait_for_frame(frame, min_frame_wait, respond.executor, [&ctx, held, respond, frame](bool applied) {
    if (applied) return run_query(ctx, std::move(*held), respond);
    respond(error_response({504, "FRAME_NOT_APPLIED",
                            "frame " + std::to_string(frame) + " of the primary was not applied here within " +
                                std::to_string(min_frame_wait.count()) + " ms"}));
  });
}

}  // namespace

proto::result<void> open_follower(server_context& ctx, asio::any_io_executor readers_home,
                                  std::function<proto::result<void>()> open_readers) {
  std::error_code fs_ec;
  const auto folder = std::filesystem::path(ctx.settings.db_path).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder, fs_ec);
  actors::follower_options o{ctx.settings.db_path, ctx.settings.follow_primary, ctx.settings.follow_token,
                             std::max(ctx.settings.busy_timeout_ms, 1000)};
  auto f = actors::follower::open(std::move(o));
  if (!f) return f.error();
  ctx.follower = std::move(*f);
  ctx.engine = std::make_shared<actors::follower_engine>(ctx.follower, ctx.readers);
  // The readers are opened and read on readers_home (where the guards run too), then published.
  ctx.follower->start([&ctx, readers_home, open_readers = std::move(open_readers)] {
    asio::post(readers_home, [&ctx, open_readers] {
      if (ctx.draining.load(std::memory_order_acquire)) return;
      if (auto opened = open_readers(); !opened)
        return log::error("follower: cannot open the readers", {{"error", opened.error().message}});
      ctx.ready.store(true, std::memory_order_release);
      log::info("follower: serving reads", {{"db", ctx.settings.db_path}});
    });
  });
  return {};
}

void add_follow_routes(server_context& ctx) {
  auto fw = std::make_shared<forwarder>();
  ctx.routes.add("/sql/query", http::verb::post, role::read,
                 [&ctx](request&& req, responder respond) { handle_query(ctx, std::move(req), std::move(respond)); });
  for (const char* path : {"/sql/execute", "/sql/batch"}) {
    ctx.routes.add(path, http::verb::post, role::write, [&ctx, fw](request&& req, responder respond) {
      forward(ctx, fw, std::move(req), std::move(respond));
    });
  }
  for (const char* path : {"/v2/pipeline", "/v3/pipeline", "/v3/cursor"}) {
    ctx.routes.add(path, http::verb::post, role::read, [&ctx, fw](request&& req, responder respond) {
      forward(ctx, fw, std::move(req), std::move(respond));
    });
  }
}

}  // namespace monolite::server
