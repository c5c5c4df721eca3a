// /healthz (alive) and /readyz (serving, not draining): open to all; /metrics (Prometheus text): admin.
#include "server/server_context.hpp"

namespace monolite::server {

void add_system_routes(server_context& ctx) {
  ctx.routes.add("/healthz", http::verb::get, role::none, [](request&&, responder respond) {
    respond(json_response(200, R"({"status":"ok"})"));
  });
  ctx.routes.add("/readyz", http::verb::get, role::none, [&ctx](request&&, responder respond) {
    if (ctx.draining.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("draining")));
    if (!ctx.ready.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("starting")));
    respond(json_response(200, R"({"status":"ready"})"));
  });
  ctx.routes.add("/metrics", http::verb::get, role::admin, [&ctx](request&&, responder respond) {
    gauge_snapshot gauges{ctx.writer->stats(), ctx.readers->rejected_full(), ctx.sessions.size()};
    respond(text_response(200, render_prometheus(ctx.metrics, gauges), "text/plain; version=0.0.4"));
  });
}

}  // namespace monolite::server
