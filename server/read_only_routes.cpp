// POST /admin/read-only {"read_only": true|false} switches the writer's gate (actors/writer_actor.hpp)
// and answers once the switch took effect: turning it on waits until every write accepted before
// has committed or failed and no interactive transaction holds the writer. The answer names the
// final state (commits, WAL frames), so a copy taken after it holds every acknowledged write.
// Process state only: a restart serves writes again unless --read-only is given.
#include "server/read_only_routes.hpp"

#include <boost/asio/system_executor.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "common/log.hpp"

namespace monolite::server {
namespace {

std::string state_body(const actors::read_only_state& s) {
  return boost::json::serialize(
      boost::json::object{{"read_only", s.read_only}, {"commits", s.commits}, {"wal_frames", s.wal_frames}});
}

// The body's "read_only", or the 400 that says what is wrong with it.
proto::result<bool> requested_mode(const std::string& body) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(body, ec);
  if (ec) return proto::bad_json("the body is not JSON: " + ec.message());
  const auto* object = parsed.if_object();
  const auto* mode = object ? object->if_contains("read_only") : nullptr;
  if (!mode || !mode->is_bool()) return proto::bad_request(R"(the body must be {"read_only": true} or false)");
  return proto::result<bool>(boost::system::in_place_value, mode->as_bool());
}

void log_switch(bool was, const actors::read_only_state& now, std::chrono::steady_clock::duration waited) {
  if (was == now.read_only) return;
  log::info(now.read_only ? "read-only mode on: writes are refused" : "read-only mode off: writes are served",
            {{"read_only", now.read_only},
             {"commits", now.commits},
             {"wal_frames", now.wal_frames},
             {"waited_ms", std::chrono::duration_cast<std::chrono::milliseconds>(waited).count()}});
}

void handle_switch(server_context& ctx, request&& req, responder respond) {
  if (auto rejected = reject_unless_json(req)) return respond(std::move(*rejected));
  if (!ctx.ready.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("starting")));
  auto on = requested_mode(req.body());
  if (!on) return respond(error_response(on.error()));
  const bool was = ctx.writer->read_only();
  const auto started = std::chrono::steady_clock::now();
  ctx.writer->set_read_only(*on, respond.executor, [respond, was, started](actors::read_only_state now) {
    log_switch(was, now, std::chrono::steady_clock::now() - started);
    respond(json_response(200, state_body(now)));
  });
}

}  // namespace

void add_read_only_routes(server_context& ctx) {
  ctx.routes.add("/admin/read-only", http::verb::post, role::admin,
                 [&ctx](request&& req, responder respond) { handle_switch(ctx, std::move(req), std::move(respond)); });
  ctx.routes.add("/admin/read-only", http::verb::get, role::admin, [&ctx](request&&, responder respond) {
    if (!ctx.ready.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("starting")));
    const boost::json::object state{{"read_only", ctx.writer->read_only()}, {"commits", ctx.writer->write_commits()}};
    respond(json_response(200, boost::json::serialize(state)));
  });
}

void start_read_only(server_context& ctx) {
  if (!ctx.settings.read_only) return;
  // Posted to the writer's strand before any request can reach it: the first write is refused.
  ctx.writer->set_read_only(true, boost::asio::system_executor(), [](actors::read_only_state) {});
  log::info("read-only mode on: writes are refused (--read-only)", {{"db", ctx.settings.db_path}});
}

}  // namespace monolite::server
