#include "actors/pg_engine.hpp"

#include <boost/asio/post.hpp>

namespace monolite::actors {
namespace asio = boost::asio;
using clock = std::chrono::steady_clock;

namespace {

double ms_since(clock::time_point start) {
  return std::chrono::duration<double, std::milli>(clock::now() - start).count();
}

// PostgreSQL's own message for a write in a read-only transaction reads oddly after /sql/query.
proto::api_error as_query_error(proto::api_error e) {
  if (e.code == "READONLY") e.message = "this statement writes; send it to /sql/execute";
  return e;
}

// As on SQLite (actors/write_transaction.cpp), a request of several statements names the one that
// failed: the `index`th of the client's `count`.
proto::api_error numbered(proto::api_error e, std::size_t index, std::size_t count) {
  if (count > 1) e.message = "statement " + std::to_string(index + 1) + ": " + e.message;
  return e;
}

proto::api_error failure_error(const pg::exec_failure& f, const pg_sql_limits& limits, client_statements span) {
  const auto at = f.statement_index;
  auto e = to_api_error(f.error, limits);
  if (at < span.first || at >= span.first + span.count) return e;
  return numbered(std::move(e), at - span.first, span.count);
}

proto::api_error interrupted_error() {
  return {504, "SQLITE_INTERRUPT", "the server is shutting down; the statement did not run"};
}

}  // namespace

std::string redacted_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos || at < scheme) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

proto::result<std::shared_ptr<pg_engine>> pg_engine::open(const std::vector<asio::any_io_executor>& executors,
                                                          const pg_engine_options& options) {
  if (executors.empty()) return proto::internal_error("the PostgreSQL engine needs an executor");
  pg_pool_options pool_options;
  pool_options.size = options.pool_size;
  pool_options.queue_capacity = options.queue_capacity;
  pool_options.connect_timeout = options.connect_timeout;
  pool_options.statement_timeout = options.statement_timeout;
  auto pool = pg_pool::open(executors, options.url, pool_options);
  auto hrana = pg_hrana::open(pool, options.limits, options.hrana, executors.front());
  hrana->start();
  return std::shared_ptr<pg_engine>(new pg_engine(std::move(pool), std::move(hrana), options));
}

pg_engine::pg_engine(std::shared_ptr<pg_pool> pool, std::shared_ptr<pg_hrana> hrana, const pg_engine_options& options)
    : pool_(std::move(pool)), hrana_(std::move(hrana)), limits_(options.limits) {}

void pg_engine::query(proto::statement statement, asio::any_io_executor reply_to, std::size_t /*home*/,
                      read_handler reply) {
  const auto started = clock::now();
  auto q = to_pg_query(statement, limits_, pg_statement_origin::request);
  if (!q) return asio::post(reply_to, [reply, e = q.error()] { reply(read_outcome{e, 0}); });
  std::vector<pg::query> queries;
  queries.push_back(plain_query("BEGIN READ ONLY"));
  queries.push_back(std::move(*q));
  queries.push_back(plain_query("COMMIT"));
  run_group(capped_group(std::move(queries), limits_), false, client_statements{1, 1}, std::move(reply_to),
            [reply, started](proto::result<std::vector<pg::query_result>> ran) {
              if (!ran) return reply(read_outcome{as_query_error(ran.error()), ms_since(started)});
              auto result = to_statement_result(std::move((*ran)[1]), true);
              if (!result) return reply(read_outcome{result.error(), ms_since(started)});
              reply(read_outcome{std::move(*result), ms_since(started)});
            });
}

// /sql/execute keeps no rows: its statements go in one round trip, one implicit transaction.
// /sql/batch returns rows: BEGIN and its statements, then COMMIT once the rows fit the caps.
void pg_engine::write(proto::write_request request, asio::any_io_executor reply_to, write_handler reply) {
  const auto started = clock::now();
  const bool rows = request.want_rows;
  std::vector<pg::query> queries;
  if (rows) queries.push_back(plain_query("BEGIN"));
  for (const auto& statement : request.statements) {
    auto q = to_pg_query(statement, limits_, pg_statement_origin::request);
    if (!q) {
      return asio::post(reply_to,
                        [reply, e = numbered(q.error(), queries.size() - (rows ? 1 : 0), request.statements.size())] {
                          reply(write_outcome{e, 0});
                        });
    }
    queries.push_back(std::move(*q));
  }
  auto group = capped_group(std::move(queries), limits_);
  group.keep_rows = rows;
  const client_statements span{rows ? 1u : 0u, request.statements.size()};
  run_group(std::move(group), rows, span, std::move(reply_to),
            [reply, started, rows](proto::result<std::vector<pg::query_result>> ran) {
              if (!ran) return reply(write_outcome{ran.error(), ms_since(started)});
              std::vector<proto::statement_result> results;
              for (std::size_t i = rows ? 1 : 0; i < ran->size(); ++i) {
                auto result = to_statement_result(std::move((*ran)[i]), rows);
                if (!result) return reply(write_outcome{result.error(), ms_since(started)});
                results.push_back(std::move(*result));
              }
              reply(write_outcome{std::move(results), ms_since(started)});
            });
}

void pg_engine::run_group(pg::query_group group, bool commit_after, client_statements span,
                          asio::any_io_executor reply_to, group_handler then) {
  if (interrupted_.load(std::memory_order_acquire)) return asio::post(reply_to, [then] { then(interrupted_error()); });
  auto answer = [reply_to, then](proto::result<std::vector<pg::query_result>> r) {
    asio::post(reply_to, [then, r = std::move(r)]() mutable { then(std::move(r)); });
  };
  const auto limits = limits_;
  pool_->acquire(reply_to,
                 [group = std::move(group), commit_after, span, answer, limits](pg::result<pg_lease> leased) mutable {
                   if (!leased) return answer(to_api_error(leased.error(), limits));
                   auto lease = std::make_shared<pg_lease>(std::move(*leased));
                   lease->connection().exec(
                       std::move(group), [lease, commit_after, span, answer, limits](pg::exec_result ran) mutable {
                         if (!ran) return lease.reset(), answer(failure_error(ran.error(), limits, span));
                         if (!commit_after) return lease.reset(), answer(std::move(*ran));
                         auto results = std::make_shared<std::vector<pg::query_result>>(std::move(*ran));
                         lease->connection().exec(capped_group({plain_query("COMMIT")}, {}),
                                                  [lease, results, answer, limits](pg::exec_result committed) mutable {
                                                    lease.reset();  // back to the pool (rolled back if COMMIT failed)
                                                    if (!committed)
                                                      return answer(to_api_error(committed.error().error, limits));
                                                    answer(std::move(*results));
                                                  });
                       });
                 });
}

void pg_engine::pipeline(std::optional<hrana::stream_ref> baton, bool read_only,
                         std::vector<proto::hrana::decoded_request> requests, asio::any_io_executor reply_to,
                         std::size_t /*home*/, pipeline_handler done) {
  hrana_->pipeline(baton, read_only, std::move(requests), std::move(reply_to), std::move(done));
}

void pg_engine::append_metrics(std::string& out) const {
  const auto s = pool_->stats();
  out += "# HELP monolite_pg_connections PostgreSQL connections of the pool: open (idle or in use) and idle.\n";
  out += "# TYPE monolite_pg_connections gauge\n";
  out += "monolite_pg_connections{state=\"open\"} " + std::to_string(s.open) + "\n";
  out += "monolite_pg_connections{state=\"idle\"} " + std::to_string(s.idle) + "\n";
  out += "# HELP monolite_pg_waiting Requests waiting for a PostgreSQL connection.\n";
  out += "# TYPE monolite_pg_waiting gauge\nmonolite_pg_waiting " + std::to_string(s.waiting) + "\n";
  out += "# HELP monolite_pg_rejected_total Requests answered 503 because the pool's queue was full.\n";
  out += "# TYPE monolite_pg_rejected_total counter\nmonolite_pg_rejected_total " + std::to_string(s.rejected) + "\n";
  out += "# HELP monolite_pg_not_ready_total Requests answered 503 because no connection could be made.\n";
  out +=
      "# TYPE monolite_pg_not_ready_total counter\nmonolite_pg_not_ready_total " + std::to_string(s.not_ready) + "\n";
}

void pg_engine::interrupt() {
  interrupted_.store(true, std::memory_order_release);
  hrana_->interrupt();
}

void pg_engine::close(asio::any_io_executor done_on, std::function<void()> done) {
  hrana_->stop();
  pool_->close(std::move(done_on), std::move(done));
}

}  // namespace monolite::actors
