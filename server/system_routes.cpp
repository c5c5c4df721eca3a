// /healthz (alive) and /readyz (serving, not draining): open to all; /metrics (Prometheus text) and
// /admin/status (the migration trigger: server/advice.hpp): admin.
#include "server/system_routes.hpp"

#include <boost/json/serialize.hpp>

#include "server/advice.hpp"
#include "server/guards.hpp"
#include "server/replication_routes.hpp"
#include "server/server_context.hpp"
#include "server/statement_recording.hpp"
#include "server/wal_log_routes.hpp"

namespace monolite::server {
namespace {

// The SQLite figures come from its actors; on PostgreSQL they stay zero and the engine adds its own.
gauge_snapshot gauges_now(const server_context& ctx) {
  gauge_snapshot gauges;
  gauges.open_connections = ctx.sessions.size();
  gauges.hrana_streams = ctx.engine->open_streams();
  if (!ctx.writer) return gauges;
  gauges.writer = ctx.writer->stats();
  gauges.readers_rejected = ctx.readers->rejected_full();
  const auto pressure = observe_wal_pressure(ctx);
  gauges.wal_bytes = pressure.wal_bytes;
  gauges.database_bytes = database_file_bytes(ctx.settings.db_path);
  gauges.reads = ctx.readers->stats();
  gauges.read_snapshots = pressure.snapshots.held;
  gauges.read_snapshot_oldest_seconds = pressure.snapshots.oldest_seconds(actors::snapshot_clock::now());
  return gauges;
}

}  // namespace

void add_system_routes(server_context& ctx) {
  ctx.routes.add("/healthz", http::verb::get, role::none,
                 [](request&&, responder respond) { respond(json_response(200, R"({"status":"ok"})")); });
  ctx.routes.add("/readyz", http::verb::get, role::none, [&ctx](request&&, responder respond) {
    if (ctx.draining.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("draining")));
    if (!ctx.ready.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("starting")));
    if (!ctx.engine->available()) return respond(error_response(proto::not_ready(ctx.engine->unavailable_reason())));
    if (!replication_ready(ctx))
      return respond(error_response(proto::not_ready("a --replica-sync replica is failing")));
    respond(json_response(200, R"({"status":"ready"})"));
  });
  ctx.routes.add("/metrics", http::verb::get, role::admin, [&ctx](request&&, responder respond) {
    if (!ctx.ready.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("starting")));
    std::string text = render_prometheus(ctx.metrics, gauges_now(ctx));
    ctx.engine->append_metrics(text);
    append_replication_metrics(ctx, text);
    append_replication_log_metrics(ctx, text);
    append_statement_log_metrics(ctx, text);
    respond(text_response(200, std::move(text), "text/plain; version=0.0.4"));
  });
  ctx.routes.add("/admin/status", http::verb::get, role::admin, [&ctx](request&&, responder respond) {
    if (!ctx.ready.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("starting")));
    respond(json_response(200, boost::json::serialize(status_json(ctx.status, ctx.settings.advice))));
  });
}

}  // namespace monolite::server
