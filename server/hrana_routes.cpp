// Hrana over HTTP (JSON): GET /v2 and /v3 (support probes), POST /v2/pipeline, /v3/pipeline and
// /v3/cursor. Decoding, baton checks and encoding happen on the session's thread; statements run
// on the actors through the Hrana service (actors/hrana_service.hpp). Every error is answered in
// the shape Hrana clients read: application/json {"message", "code"}. The Protobuf variants are
// not served: their 404 makes clients fall back to JSON.
#include "server/hrana_routes.hpp"

#include "proto/hrana_decode.hpp"
#include "proto/hrana_encode.hpp"
#include "server/hrana_batons.hpp"
#include "server/server_context.hpp"
#include "server/statement_recording.hpp"

namespace monolite::server {
namespace {
namespace ph = proto::hrana;
using actors::hrana::pipeline_outcome;
using actors::hrana::stream_ref;

response hrana_error_response(const proto::api_error& e) {
  auto res = json_response(e.status, ph::encode_http_error(e));
  if (e.retry_after) res.set("Retry-After", std::to_string(e.retry_after));
  return res;
}

struct hrana_state {
  server_context& ctx;
  baton_signer batons;
};

std::optional<response> reject(const server_context& ctx, const request& req) {
  if (reject_unless_json(req))
    return hrana_error_response({415, "UNSUPPORTED_MEDIA_TYPE", "send the body as Content-Type: application/json"});
  if (!ctx.ready.load(std::memory_order_acquire) || !ctx.engine)
    return hrana_error_response(proto::not_ready("the server is not ready"));
  return std::nullopt;
}

proto::result<std::optional<stream_ref>> check_baton(const baton_signer& batons,
                                                     const std::optional<std::string>& baton) {
  if (!baton) return std::optional<stream_ref>{};
  auto ref = batons.verify(*baton);
  if (!ref)
    return proto::api_error{
        400, "BATON_INVALID",
        "the baton was not issued by this server (or the server restarted since); open a new stream"};
  return std::optional<stream_ref>{*ref};
}

// Runs the requests on the baton's stream; `answer` turns a successful outcome into the response.
void run(const std::shared_ptr<hrana_state>& st, const std::optional<std::string>& baton,
         std::vector<ph::decoded_request> requests, responder respond,
         std::function<response(pipeline_outcome&, const std::optional<std::string>&)> answer) {
  auto ref = check_baton(st->batons, baton);
  if (!ref) return respond(hrana_error_response(ref.error()));
  const bool read_only = respond.granted < role::write;
  auto executor = respond.executor;
  const auto home = respond.home;
  st->ctx.engine->pipeline(*ref, read_only, std::move(requests), executor, home,
                           [st, respond = std::move(respond), answer = std::move(answer)](pipeline_outcome out) {
                             if (!out.status) return respond(hrana_error_response(out.status.error()));
                             std::optional<std::string> next;
                             if (out.next) next = st->batons.sign(*out.next);
                             respond(answer(out, next));
                           });
}

void handle_pipeline(const std::shared_ptr<hrana_state>& st, request&& req, responder respond) {
  if (auto rejected = reject(st->ctx, req)) return respond(std::move(*rejected));
  auto body = ph::decode_pipeline(req.body());
  if (!body) return respond(hrana_error_response(body.error()));
  record_hrana_requests(st->ctx, body->requests);
  run(st, body->baton, std::move(body->requests), std::move(respond),
      [](pipeline_outcome& out, const std::optional<std::string>& next) {
        return json_response(200, ph::encode_pipeline_response(next, out.results));
      });
}

// The whole batch runs first; its result then goes out as JSON lines (not streamed row by row).
void handle_cursor(const std::shared_ptr<hrana_state>& st, request&& req, responder respond) {
  if (auto rejected = reject(st->ctx, req)) return respond(std::move(*rejected));
  auto body = ph::decode_cursor(req.body());
  if (!body) return respond(hrana_error_response(body.error()));
  if (!body->steps) return respond(hrana_error_response({400, body->steps.error().code, body->steps.error().message}));
  record_hrana_batch(st->ctx, *body->steps);
  ph::stream_request batch;
  batch.kind = ph::request_kind::batch;
  batch.steps = std::move(*body->steps);
  std::vector<ph::decoded_request> requests;
  requests.emplace_back(std::move(batch));
  run(st, body->baton, std::move(requests), std::move(respond),
      [](pipeline_outcome& out, const std::optional<std::string>& next) {
        const auto& result = out.results.at(0);
        return text_response(200, ph::encode_cursor_response(next, result.steps, result.failure), "text/plain");
      });
}

}  // namespace

proto::result<void> open_hrana(server_context& ctx, const db::connection_options& db_options,
                               boost::asio::any_io_executor timer_executor,
                               const std::vector<boost::asio::any_io_executor>& reader_executors) {
  actors::hrana::service_limits limits;
  limits.max_stored_sql_bytes = static_cast<std::size_t>(ctx.settings.max_sql_length);
  limits.transaction_timeout = ctx.settings.transaction_timeout;
  limits.read_transactions = ctx.settings.max_read_transactions;
  auto service = actors::hrana::service::open(ctx.writer, *ctx.readers, reader_executors, db_options, limits,
                                              std::move(timer_executor));
  if (!service) return service.error();
  ctx.hrana = std::move(*service);
  ctx.hrana->start();
  return {};
}

void add_hrana_routes(server_context& ctx) {
  auto st = std::make_shared<hrana_state>(hrana_state{ctx, {}});
  for (const char* probe : {"/v2", "/v3"}) {
    ctx.routes.add(
        probe, http::verb::get, role::read,
        [](request&&, responder respond) {
          respond(text_response(200, "Hrana over HTTP (JSON) is served here\n", "text/plain"));
        },
        &hrana_error_response);
  }
  for (const char* path : {"/v2/pipeline", "/v3/pipeline"}) {
    ctx.routes.add(
        path, http::verb::post, role::read,
        [st](request&& req, responder respond) { handle_pipeline(st, std::move(req), std::move(respond)); },
        &hrana_error_response);
  }
  ctx.routes.add(
      "/v3/cursor", http::verb::post, role::read,
      [st](request&& req, responder respond) { handle_cursor(st, std::move(req), std::move(respond)); },
      &hrana_error_response);
}

}  // namespace monolite::server
