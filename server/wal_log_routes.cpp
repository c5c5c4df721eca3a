#include "server/wal_log_routes.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/system_executor.hpp>
#include <filesystem>
#include <future>
#include <optional>

#include "common/log.hpp"
#include "db/schema_cookie.hpp"
#include "proto/wal_log.hpp"
#include "replica/format/frame_log_meta.hpp"
#include "server/grpc_responses.hpp"
#include "server/server_context.hpp"
#include "server/wal_log_snapshot.hpp"

namespace monolite::server {

namespace wal_log = proto::wal_log;
using grpc_status = proto::grpc_web::status;

namespace {

constexpr std::size_t max_frames_per_batch = 1024;  // 4 MiB of pages per answer, as sqld

db::connection_options cookie_options(const settings& s) {
  db::connection_options o;
  o.path = s.db_path;
  o.busy_timeout_ms = s.busy_timeout_ms;
  return o;
}

// A new history (a crash, a restore, another writer): replicas still hold a connection with the
// schema of the old one, reloaded only if the schema cookie changes.
proto::result<void> raise_cookie_for_new_history(server_context& ctx) {
  const auto& log = *ctx.replication_log;
  if (log.opening() == replica::log_opening::continued || log.opening() == replica::log_opening::created) return {};
  std::error_code ec;
  if (!std::filesystem::exists(ctx.settings.db_path, ec)) return {};
  auto raised = db::raise_schema_cookie(cookie_options(ctx.settings), log.schema_cookie_floor());
  if (!raised) return raised.error();
  log::warn("the replication log starts a new history: replicas take a snapshot",
            {{"reason", log.opening_reason()}, {"schema_cookie_raised", *raised}});
  return {};
}

// The log opens with the database, possibly after the routes were added (a restore first).
std::optional<response> unless_ready(const server_context& ctx) {
  if (ctx.ready.load(std::memory_order_acquire) && ctx.replication_log) return std::nullopt;
  return grpc_status_response(grpc_status::unavailable, "the database is not open yet");
}

bool has_session(const server_context& ctx, const request& req) {
  return req[wal_log::session_header] == ctx.replication_session;
}

void hello(server_context& ctx, responder respond) {
  ctx.replication_log->position(respond.executor, [&ctx, respond](actors::log_position at) {
    wal_log::hello_response hello;
    hello.generation_id = at.generation_id;
    hello.generation_start_index = at.generation_start;
    hello.log_id = at.generation_id;  // libSQL clients start over when the log id changes
    hello.session_token = ctx.replication_session;
    hello.current_replication_index = at.next > 0 ? at.next - 1 : 0;
    respond(grpc_unary_response(wal_log::encode(hello)));
  });
}

void batch_log_entries(server_context& ctx, std::uint64_t from, responder respond) {
  ctx.replication_log->read(from, max_frames_per_batch, respond.executor, [respond](proto::result<std::string> frames) {
    if (frames) return respond(grpc_unary_response(*frames));
    const auto& code = frames.error().code;
    if (code == replica::need_snapshot_code)
      return respond(grpc_status_response(grpc_status::failed_precondition, std::string(wal_log::need_snapshot)));
    // The log is still appending what the writer committed: nothing yet.
    if (code == replica::ahead_of_log_code) return respond(grpc_unary_response(""));
    respond(grpc_error_response(frames.error()));
  });
}

void snapshot(server_context& ctx, responder respond) {
  // The pin's handler runs on the writer's strand: the WAL is indexed elsewhere.
  ctx.writer->pin_snapshot([&ctx, respond](proto::result<std::shared_ptr<actors::pinned_snapshot>> pin) {
    boost::asio::post(ctx.replication_blocking, [&ctx, respond, pin = std::move(pin)]() mutable {
      auto answer = [respond](response res) {
        boost::asio::post(respond.executor, [respond, res = std::move(res)]() mutable { respond(std::move(res)); });
      };
      if (!pin) return answer(grpc_error_response(pin.error()));
      // A log starts at frame 1: frame 0 stands before every commit, the least a snapshot holds.
      const std::uint64_t frame_no = (*pin)->next_frame_no > 0 ? (*pin)->next_frame_no - 1 : 0;
      auto body = snapshot_body::open(std::move(*pin), frame_no, ctx.replication_blocking);
      if (!body) return answer(grpc_error_response(body.error()));
      ctx.replication_log->count_snapshot();
      answer(streamed_response(200, std::move(*body), proto::grpc_web::content_type));
    });
  });
}

// The three calls share the checks: a gRPC-web body, a LogOffset, the session from Hello.
void add_offset_route(server_context& ctx, const char* path, void (*serve)(server_context&, std::uint64_t, responder)) {
  ctx.routes.add(
      path, http::verb::post, role::read,
      [&ctx, serve](request&& req, responder respond) {
        if (auto not_yet = unless_ready(ctx)) return respond(std::move(*not_yet));
        auto message = grpc_request_message(req);
        if (!message) return respond(grpc_error_response(message.error()));
        auto offset = wal_log::decode_offset(*message);
        if (!offset) return respond(grpc_error_response(offset.error()));
        if (!has_session(ctx, req))
          return respond(grpc_status_response(grpc_status::failed_precondition, std::string(wal_log::no_hello)));
        serve(ctx, *offset, std::move(respond));
      },
      &grpc_error_response);
}

}  // namespace

proto::result<void> open_replication_log(server_context& ctx, boost::asio::any_io_executor blocking) {
  if (ctx.settings.replication_log_max_bytes == 0) return {};
  actors::replication_log_options o;
  o.max_bytes = ctx.settings.replication_log_max_bytes;
  o.max_age = std::chrono::duration_cast<std::chrono::seconds>(ctx.settings.replication_log_max_age);
  auto log = actors::replication_log::open(blocking, ctx.settings.db_path, o);
  if (!log) return log.error();
  ctx.replication_log = std::move(*log);
  ctx.replication_session = replica::frame_log_format::new_uuid();
  ctx.replication_blocking = blocking;
  return raise_cookie_for_new_history(ctx);
}

proto::result<void> start_replication_log(server_context& ctx) {
  if (!ctx.replication_log) return {};
  std::promise<proto::result<void>> attached;
  ctx.writer->attach_frame_sink(ctx.replication_log, ctx.replication_log->next_frame_no(),
                                boost::asio::system_executor(),
                                [&attached](proto::result<void> r) { attached.set_value(r); });
  auto result = attached.get_future().get();
  if (!result) return result.error();
  ctx.replication_log->start_trimming();
  log::info("replication log", {{"opening", static_cast<int>(ctx.replication_log->opening())},
                                {"next_frame_no", ctx.replication_log->next_frame_no()}});
  return {};
}

void close_replication_log(server_context& ctx) {
  if (!ctx.replication_log) return;
  if (auto closed = ctx.replication_log->close(replica::fingerprint_of(ctx.settings.db_path)); !closed)
    log::error("cannot close the replication log", {{"error", closed.error().message}});
  ctx.replication_log.reset();
}

void append_replication_log_metrics(const server_context& ctx, std::string& out) {
  if (!ctx.replication_log) return;
  const auto s = ctx.replication_log->stats();
  auto metric = [&out](const char* name, const char* type, const char* help, std::uint64_t value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + " " +
           std::to_string(value) + "\n";
  };
  metric("monolite_replication_log_next_frame", "gauge", "Number of the next frame the replication log will hold.",
         s.next);
  metric("monolite_replication_log_first_frame", "gauge",
         "Oldest frame the replication log still holds (older ones are served as a snapshot).", s.first);
  metric("monolite_replication_log_bytes", "gauge", "Bytes of frames the replication log holds on disk.", s.bytes);
  metric("monolite_replication_log_generations_total", "counter",
         "New histories started while serving (frames were lost): replicas took a snapshot.", s.generations);
  metric("monolite_replication_log_dropped_commits_total", "counter",
         "Commits not logged because the log fell too far behind the writer.", s.dropped_commits);
  metric("monolite_replication_snapshots_total", "counter", "Snapshots served to replicas.", s.snapshots);
}

void add_wal_log_routes(server_context& ctx) {
  if (ctx.settings.replication_log_max_bytes == 0) return;
  ctx.routes.add(
      "/wal_log.ReplicationLog/Hello", http::verb::post, role::read,
      [&ctx](request&& req, responder respond) {
        if (auto not_yet = unless_ready(ctx)) return respond(std::move(*not_yet));
        if (auto message = grpc_request_message(req); !message) return respond(grpc_error_response(message.error()));
        hello(ctx, std::move(respond));
      },
      &grpc_error_response);
  // libSQL's client asks GET /info first: 404 keeps it on this protocol (a 2xx would switch it to
  // another one), and the access check's 401 for a missing or wrong token fails its open at once.
  ctx.routes.add("/info", http::verb::get, role::read, [](request&&, responder respond) {
    respond(error_response({404, "NOT_FOUND", "no /info here: sync over wal_log.ReplicationLog"}));
  });
  add_offset_route(ctx, "/wal_log.ReplicationLog/BatchLogEntries", &batch_log_entries);
  add_offset_route(ctx, "/wal_log.ReplicationLog/Snapshot",
                   [](server_context& c, std::uint64_t, responder respond) { snapshot(c, std::move(respond)); });
  ctx.routes.add(
      "/wal_log.ReplicationLog/LogEntries", http::verb::post, role::read,
      [](request&&, responder respond) {
        respond(grpc_status_response(grpc_status::unimplemented, "use BatchLogEntries"));
      },
      &grpc_error_response);
}

}  // namespace monolite::server
