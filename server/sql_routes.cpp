// /sql/query → the engine's query (a reader); /sql/execute and /sql/batch → its write (the writer).
// Decoding and encoding happen on the session's thread; SQL runs on the engine's executors.
#include "server/sql_routes.hpp"

#include <boost/beast/http/field.hpp>
#include <optional>

#include "proto/sql_request.hpp"
#include "server/server_context.hpp"
#include "server/statement_recording.hpp"

namespace monolite::server {
namespace {

std::optional<response> reject_unless_ready(const server_context& ctx, const request& req) {
  if (auto rejected = reject_unless_json(req)) return rejected;
  if (!ctx.ready.load(std::memory_order_acquire)) return error_response(proto::not_ready("the server is not ready"));
  return std::nullopt;
}

void handle_query(server_context& ctx, request&& req, responder respond) {
  if (auto rejected = reject_unless_ready(ctx, req)) return respond(std::move(*rejected));
  auto statement = proto::decode_query(req.body());
  if (!statement) return respond(error_response(statement.error()));
  record_statement(ctx, *statement);
  ctx.engine->query(std::move(*statement), respond.executor, respond.home, [respond](actors::read_outcome outcome) {
    if (!outcome.result) return respond(error_response(outcome.result.error()));
    respond(json_response(200, proto::encode_query_response(*outcome.result, outcome.time_ms)));
  });
}

// Read-your-writes through a follower (server/follow_routes.hpp): the writer numbers a commit's
// frames before it answers, so the write just answered is at or before this frame.
void add_frame_header(const server_context& ctx, response& res) {
  if (!ctx.writer || !ctx.replication_log) return;
  if (const auto next = ctx.writer->next_frame_no(); next > 0) res.set("X-Monolite-Frame", std::to_string(next - 1));
}

void handle_write(server_context& ctx, request&& req, responder respond, bool batch) {
  if (auto rejected = reject_unless_ready(ctx, req)) return respond(std::move(*rejected));
  auto decoded = batch ? proto::decode_batch(req.body()) : proto::decode_execute(req.body());
  if (!decoded) return respond(error_response(decoded.error()));
  record_statements(ctx, decoded->statements);
  ctx.engine->write(std::move(*decoded), respond.executor, [&ctx, respond, batch](actors::write_outcome outcome) {
    if (!outcome.results) return respond(error_response(outcome.results.error()));
    auto res = json_response(200, batch ? proto::encode_batch_response(*outcome.results, outcome.time_ms)
                                        : proto::encode_execute_response(*outcome.results, outcome.time_ms));
    add_frame_header(ctx, res);
    respond(std::move(res));
  });
}

}  // namespace

void add_sql_routes(server_context& ctx) {
  ctx.routes.add("/sql/query", http::verb::post, role::read,
                 [&ctx](request&& req, responder respond) { handle_query(ctx, std::move(req), std::move(respond)); });
  ctx.routes.add("/sql/execute", http::verb::post, role::write, [&ctx](request&& req, responder respond) {
    handle_write(ctx, std::move(req), std::move(respond), false);
  });
  ctx.routes.add("/sql/batch", http::verb::post, role::write, [&ctx](request&& req, responder respond) {
    handle_write(ctx, std::move(req), std::move(respond), true);
  });
}

}  // namespace monolite::server
