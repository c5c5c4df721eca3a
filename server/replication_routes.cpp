#include "server/replication_routes.hpp"

#include <boost/asio/system_executor.hpp>
#include <filesystem>
#include <future>

#include "actors/replicator.hpp"
#include "common/log.hpp"

namespace monolite::server {

namespace {
actors::replica_options replica_options_for(const server::settings& s) {
  actors::replica_options o;
  o.sync = s.replica_sync;
  o.interval = s.replica_interval;
  o.sync_timeout = s.replica_sync_timeout;
  o.snapshot_interval = s.snapshot_interval;
  o.retention = s.retention;
  o.retention_check = s.retention_check;
  o.compact_interval = s.replica_compact_interval;
  o.max_backlog_bytes = s.replica_max_backlog;
  return o;
}

// --verify-interval: the verifier's stores are opened now (a bad URL fails the start); its
// thread starts once the server is ready.
proto::result<void> open_verification(server_context& ctx) {
  if (ctx.settings.verify_interval.count() == 0) return {};
  actors::verify_settings v;
  v.db_path = ctx.settings.db_path;
  v.interval = ctx.settings.verify_interval;
  // A healthy replica is at most an upload interval or two behind; the wait leaves room for a slow store.
  v.catch_up_wait = std::max<std::chrono::milliseconds>(std::chrono::seconds(10), 10 * ctx.settings.replica_interval);
  auto verifier = actors::replica_verifier::open(ctx.settings.replicas, v, ctx.settings.replica_keys);
  if (!verifier) return verifier.error();
  ctx.verifier = std::move(*verifier);
  return {};
}
}  // namespace

proto::result<void> start_replication(server_context& ctx, boost::asio::any_io_executor timers) {
  if (ctx.settings.replicas.empty()) return {};
  const auto& keys = ctx.settings.replica_keys;
  auto rep = actors::replicator::open(ctx.settings.replicas, replica_options_for(ctx.settings), timers, keys);
  if (!rep) return rep.error();
  const auto plan = (*rep)->plan_resume(ctx.settings.db_path);
  std::promise<proto::result<void>> attached;
  ctx.writer->attach_replicator(*rep, plan, boost::asio::system_executor(),
                                [&attached](proto::result<void> r) { attached.set_value(r); });
  auto result = attached.get_future().get();
  if (!result) return result.error();
  ctx.replicator = std::move(*rep);
  if (auto opened = open_verification(ctx); !opened) return opened.error();
  log::info("replicating", {{"replicas", ctx.settings.replicas.size()},
                            {"sync", ctx.settings.replica_sync},
                            {"verify_interval_ms", ctx.settings.verify_interval.count()},
                            {"generation", plan.generation.empty() ? "new" : plan.generation},
                            {"sealed_with", keys.empty() ? "none" : "key " + keys.current()->id().hex()}});
  return {};
}

void add_replication_routes(server_context& ctx) {
  ctx.routes.add("/admin/snapshot", http::verb::post, role::admin, [&ctx](request&&, responder respond) {
    if (!ctx.ready.load(std::memory_order_acquire)) return respond(error_response(proto::not_ready("starting")));
    if (!ctx.replicator)
      return respond(error_response(proto::api_error{409, "NO_REPLICA", "the server runs without --replica"}));
    ctx.replicator->snapshot_now();
    respond(json_response(202, R"({"status":"snapshot started"})"));
  });
}

bool replication_ready(const server_context& ctx) {
  if (!ctx.replicator || !ctx.settings.replica_sync) return true;
  for (const auto& s : ctx.replicator->stats())
    if (!s.healthy) return false;
  return true;
}

namespace {
void append_ship_delay_histogram(const std::vector<actors::replica_stats>& stats, std::string& out) {
  const char* name = "monolite_replica_ship_delay_seconds";
  out.append("# HELP ").append(name).append(" Time from a commit to its WAL segment being in the replica.\n");
  out.append("# TYPE ").append(name).append(" histogram\n");
  for (const auto& s : stats) {
    const std::string label = "replica=\"" + escape_label_value(s.replica) + "\"";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= actors::ship_delay_bucket_count; ++i) {
      cumulative += s.ship_delay_counts[i];
      const std::string le =
          i < actors::ship_delay_bucket_count ? std::to_string(actors::ship_delay_buckets[i]) : "+Inf";
      out.append(name).append("_bucket{").append(label).append(",le=\"").append(le).append("\"} ");
      out.append(std::to_string(cumulative)).append("\n");
    }
    out.append(name).append("_sum{").append(label).append("} ").append(std::to_string(s.ship_delay_sum)).append("\n");
    out.append(name).append("_count{").append(label).append("} ").append(std::to_string(cumulative)).append("\n");
  }
}
}  // namespace

namespace {
// What replication costs: requests to each store by the kinds object stores bill for.
void append_request_counts(const std::vector<actors::replica_stats>& stats, std::string& out) {
  const char* name = "monolite_replica_requests_total";
  out.append("# HELP ").append(name).append(" Requests made to the replica's store, by kind.\n");
  out.append("# TYPE ").append(name).append(" counter\n");
  for (const auto& s : stats) {
    const std::pair<const char*, std::uint64_t> kinds[] = {{"put", s.requests.put},
                                                           {"get", s.requests.get},
                                                           {"list", s.requests.list},
                                                           {"delete", s.requests.remove},
                                                           {"multipart", s.requests.multipart}};
    for (const auto& [kind, count] : kinds)
      out.append(name)
          .append("{replica=\"")
          .append(escape_label_value(s.replica))
          .append("\",kind=\"")
          .append(kind)
          .append("\"} ")
          .append(std::to_string(count))
          .append("\n");
  }
}
// One metric family with a sample per replica (`stats` items have a `replica` URL).
template <class Stats, class ValueOf>
void append_per_replica(std::string& out, const Stats& stats, const char* name, const char* type, const char* help,
                        ValueOf value_of) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n# TYPE ").append(name).append(" ");
  out.append(type).append("\n");
  for (const auto& s : stats) {
    out.append(name).append("{replica=\"").append(escape_label_value(s.replica)).append("\"} ");
    out.append(value_of(s)).append("\n");
  }
}
}  // namespace

void append_replication_metrics(const server_context& ctx, std::string& out) {
  if (!ctx.replicator) return;
  const auto stats = ctx.replicator->stats();
  auto family = [&](const char* name, const char* type, const char* help, auto value_of) {
    append_per_replica(out, stats, name, type, help, value_of);
  };
  auto n = [](auto v) { return std::to_string(v); };
  family("monolite_replica_lag_seconds", "gauge", "Age of the oldest commit not yet in the replica.",
         [&](auto& s) { return n(s.lag_seconds); });
  family("monolite_replica_lag_frames", "gauge", "WAL frames captured but not yet in the replica.",
         [&](auto& s) { return n(s.lag_frames); });
  family("monolite_replica_bytes_total", "counter", "Compressed bytes uploaded.",
         [&](auto& s) { return n(s.bytes_shipped); });
  family("monolite_replica_objects_total", "counter", "Objects uploaded (segments and snapshots).",
         [&](auto& s) { return n(s.objects_shipped); });
  family("monolite_replica_snapshots_total", "counter", "Snapshots uploaded.", [&](auto& s) { return n(s.snapshots); });
  family("monolite_replica_errors_total", "counter", "Failed replica operations.",
         [&](auto& s) { return n(s.errors); });
  family("monolite_replica_deleted_total", "counter", "Objects deleted by retention.",
         [&](auto& s) { return n(s.deleted); });
  append_ship_delay_histogram(stats, out);
  append_request_counts(stats, out);
  family("monolite_replica_last_success_seconds", "gauge", "Unix time of the last successful upload (0: none).",
         [&](auto& s) { return n(s.last_success_ms / 1000); });
  append_verification_metrics(ctx, out);
}

void append_verification_metrics(const server_context& ctx, std::string& out) {
  if (!ctx.verifier) return;
  const auto stats = ctx.verifier->stats();
  auto family = [&](const char* name, const char* type, const char* help, auto value_of) {
    append_per_replica(out, stats, name, type, help, value_of);
  };
  family("monolite_replica_verified_timestamp_seconds", "gauge",
         "Unix time of the last verification that found the replica equal to the live database (0: none).",
         [](const actors::verify_stats& s) { return std::to_string(s.last_success_ms / 1000.0); });
  family("monolite_replica_verify_failures_total", "counter",
         "Verifications that found a difference or could not finish.",
         [](const actors::verify_stats& s) { return std::to_string(s.failures); });
  family("monolite_replica_verify_duration_seconds", "gauge", "How long the last verification took.",
         [](const actors::verify_stats& s) { return std::to_string(s.last_duration_seconds); });
}

}  // namespace monolite::server
