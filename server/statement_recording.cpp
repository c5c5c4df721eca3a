#include "server/statement_recording.hpp"

#include <boost/asio/post.hpp>

#include "common/log.hpp"
#include "db/sql_text.hpp"
#include "server/server_context.hpp"
#include "server/statement_log.hpp"

namespace monolite::server {
namespace ph = proto::hrana;

proto::result<void> open_statement_log(server_context& ctx) {
  if (ctx.settings.statement_log_path.empty()) return {};
  auto log = statement_log::open(ctx.settings.statement_log_path, ctx.settings.statement_log_limit);
  if (!log) return proto::bad_request("--statement-log: " + log.error().message);
  ctx.statement_log = std::move(*log);
  log::info("recording statements", {{"file", ctx.settings.statement_log_path},
                                     {"limit", ctx.settings.statement_log_limit},
                                     {"held", ctx.statement_log->size()}});
  return {};
}

void record_statement(const server_context& ctx, const proto::statement& statement) {
  if (ctx.statement_log) ctx.statement_log->record(statement.sql);
}

void record_statements(const server_context& ctx, const std::vector<proto::statement>& statements) {
  if (!ctx.statement_log) return;
  for (const auto& s : statements)
    ctx.statement_log->record(s.sql);
}

void record_hrana_batch(const server_context& ctx, const ph::batch& batch) {
  if (!ctx.statement_log) return;
  for (const auto& step : batch.steps)
    if (step.statement.sql) ctx.statement_log->record(*step.statement.sql);
}

// Statements named by a stored sql_id are counted once, when stored (store_sql).
void record_hrana_requests(const server_context& ctx, const std::vector<ph::decoded_request>& requests) {
  if (!ctx.statement_log) return;
  for (const auto& r : requests) {
    if (!r) continue;
    if (r->kind == ph::request_kind::execute && r->statement.sql) ctx.statement_log->record(*r->statement.sql);
    if (r->kind == ph::request_kind::batch) record_hrana_batch(ctx, r->steps);
    const bool text_request = r->kind == ph::request_kind::sequence || r->kind == ph::request_kind::store_sql;
    if (text_request && r->sql)
      for (const auto& sql : db::split_statements(*r->sql))
        ctx.statement_log->record(sql);
  }
}

void save_statement_log(const server_context& ctx) {
  if (!ctx.statement_log) return;
  if (auto saved = ctx.statement_log->save(); !saved)
    log::error("cannot save the statement log", {{"error", saved.error().message}});
}

void append_statement_log_metrics(const server_context& ctx, std::string& out) {
  if (!ctx.statement_log) return;
  out += "# HELP monolite_statement_log_dropped_total Statements not recorded: --statement-log-limit shapes held.\n";
  out += "# TYPE monolite_statement_log_dropped_total counter\n";
  out += "monolite_statement_log_dropped_total " + std::to_string(ctx.statement_log->dropped()) + "\n";
  out += "# HELP monolite_statement_log_shapes Distinct statement shapes held by the statement log.\n";
  out += "# TYPE monolite_statement_log_shapes gauge\n";
  out += "monolite_statement_log_shapes " + std::to_string(ctx.statement_log->size()) + "\n";
}

statement_log_saver::statement_log_saver(statement_log& log, boost::asio::any_io_executor executor)
    : log_(log), timer_(executor) {}

void statement_log_saver::start() { schedule(); }

void statement_log_saver::stop() {
  boost::asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void statement_log_saver::schedule() {
  if (stopped_) return;
  timer_.expires_after(period);
  timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->stopped_) return;
    if (auto saved = self->log_.save(); !saved)
      log::warn("cannot save the statement log", {{"error", saved.error().message}});
    self->schedule();
  });
}

}  // namespace monolite::server
