// exec(): a group of statements in libpq's pipeline mode, one sync, so one round trip; each
// statement's rows come one by one (single-row mode) so the group's limits bound the memory held.
#include <libpq-fe.h>

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <memory>

#include "common/strand_check.hpp"
#include "pg/async_connection.hpp"
#include "pg/result.hpp"

namespace monolite::pg {
namespace asio = boost::asio;
using wait_type = asio::posix::descriptor_base::wait_type;

namespace {

constexpr std::size_t max_params = 65535;  // the protocol counts parameters in 16 bits

error coded(const char* sqlstate, std::string message, std::string statement = {}) {
  error e = connection_error(std::move(message));
  e.sqlstate = sqlstate;
  e.statement = std::move(statement);
  return e;
}

statement_key key_of(const query& q) {
  statement_key key{q.sql, {}};
  key.param_oids.reserve(q.params.size());
  for (const auto& p : q.params)
    key.param_oids.push_back(p.oid);
  return key;
}

// The plan's row type changed under it (0A000), or the server has no such statement (26000).
bool prepared_statement_gone(const std::string& sqlstate) { return sqlstate == "0A000" || sqlstate == "26000"; }

std::string sql_at(const query_group& group, std::size_t index) {
  return index < group.queries.size() ? group.queries[index].sql : std::string();
}

}  // namespace

void async_connection::exec(query_group group, exec_handler handler) {
  asio::post(strand_, [self = shared_from_this(), group = std::move(group), handler = std::move(handler)]() mutable {
    self->start_exec(std::move(group), std::move(handler));
  });
}

void async_connection::post_failure(exec_handler handler, error e) {
  asio::post(strand_, [handler = std::move(handler), e = std::move(e)] { handler(exec_failure{e, 0}); });
}

void async_connection::start_exec(query_group group, exec_handler handler) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (op_ == operation::watching) stop_watch();
  if (op_ != operation::none) return post_failure(std::move(handler), coded(sqlstate_busy, "the connection is busy"));
  if (broken_ || !conn_) {
    return post_failure(std::move(handler), coded(sqlstate_connection_lost, "the PostgreSQL connection is broken"));
  }
  for (std::size_t i = 0; i < group.queries.size(); ++i) {
    if (group.queries[i].params.size() > max_params) {
      return asio::post(strand_, [handler = std::move(handler), i, sql = group.queries[i].sql] {
        handler(exec_failure{coded("54023", "more than 65535 parameters", sql), i});
      });
    }
  }
  op_ = operation::executing;
  run_group(std::move(group), std::move(handler), prepare_);
}

void async_connection::run_group(query_group group, exec_handler handler, bool use_cache, bool retried) {
  exec_ = std::make_unique<exec_state>();
  exec_->retried = retried;
  exec_->results.resize(group.queries.size());
  exec_->group = std::move(group);
  exec_->handler = std::move(handler);
  state_.store(transaction_status::unknown, std::memory_order_release);
  // A send that fails leaves the group without its sync: the server commits none of it.
  if (!send_group(use_cache)) return fail_operation(lost_error("cannot send to PostgreSQL"));
  flush();
}

bool async_connection::send_group(bool use_cache) {
  // A retry first rolls back the transaction a BEGIN of the group opened.
  if (exec_->retried && PQtransactionStatus(conn_) == PQTRANS_INERROR && !send_aside("ROLLBACK", {})) return false;
  exec_->started_idle = exec_->retried || PQtransactionStatus(conn_) == PQTRANS_IDLE;
  if (use_cache && !send_deallocations()) return false;
  for (std::size_t i = 0; i < exec_->group.queries.size(); ++i) {
    if (!send_statement(i, use_cache)) return false;
  }
  if (PQpipelineSync(conn_) != 1) return false;
  exec_->steps.push_back({step_kind::group_end, 0, {}, false});
  enter_step();  // single-row mode for the first statement, if it comes first
  return true;
}

// Each DEALLOCATE in a group of its own, sent ahead in the same round trip: whatever it answers
// leaves the caller's statements alone. Only outside a transaction, whose snapshot or aborted
// state it could otherwise touch; until then the names wait.
bool async_connection::send_deallocations() {
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) return true;
  for (const auto& name : statements_.take_deallocations()) {
    if (!send_aside("DEALLOCATE " + name, name)) return false;
  }
  return true;
}

bool async_connection::send_aside(const std::string& sql, const std::string& name) {
  if (PQsendQueryParams(conn_, sql.c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) return false;
  if (PQpipelineSync(conn_) != 1) return false;
  exec_->steps.push_back({step_kind::aside, 0, name, false});
  exec_->steps.push_back({step_kind::sync, 0, {}, false});
  return true;
}

// A cached statement runs by name; a new one is prepared first, in the same pipeline (once per
// group even if the group repeats it), and cached when the server accepts it.
bool async_connection::send_statement(std::size_t i, bool use_cache) {
  auto& st = *exec_;
  const auto& q = st.group.queries[i];
  std::vector<Oid> types;
  std::vector<const char*> values;
  std::vector<int> lengths;
  std::vector<int> formats;
  for (const auto& p : q.params) {
    types.push_back(p.oid);
    values.push_back(p.is_null ? nullptr : p.bytes.data());
    lengths.push_back(static_cast<int>(p.bytes.size()));
    formats.push_back(p.format);
  }
  const int count = static_cast<int>(q.params.size());
  if (!use_cache) {
    st.steps.push_back({step_kind::execute, i, {}, false});
    return PQsendQueryParams(conn_, q.sql.c_str(), count, types.data(), values.data(), lengths.data(), formats.data(),
                             q.result_format) == 1;
  }
  std::string name = prepared_name(i);
  if (name.empty()) {
    name = statements_.next_name();
    if (PQsendPrepare(conn_, name.c_str(), q.sql.c_str(), count, types.data()) != 1) return false;
    st.steps.push_back({step_kind::prepare, i, name, false});
  }
  st.steps.push_back({step_kind::execute, i, name, false});
  return PQsendQueryPrepared(conn_, name.c_str(), count, values.data(), lengths.data(), formats.data(),
                             q.result_format) == 1;
}

// The name statement `i` already has: in the cache, or prepared earlier in this group; "" if none.
std::string async_connection::prepared_name(std::size_t i) {
  const auto& st = *exec_;
  if (auto cached = statements_.find(key_of(st.group.queries[i]))) return *cached;
  for (const auto& s : st.steps) {
    if (s.kind != step_kind::prepare) continue;
    const auto& earlier = st.group.queries[s.statement];
    if (earlier.sql == st.group.queries[i].sql && key_of(earlier) == key_of(st.group.queries[i])) return s.name;
  }
  return {};
}

void async_connection::flush() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  const int flushed = PQflush(conn_);
  if (flushed < 0) return fail_operation(lost_error("cannot send to PostgreSQL"));
  if (flushed == 0) return read_results();
  // The server may be blocked sending results we have not read: read while waiting to write.
  wait_read_or_write([this] {
    if (PQconsumeInput(conn_) != 1) return fail_operation(lost_error("PostgreSQL connection lost"));
    flush();
  });
}

void async_connection::read_results() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  for (;;) {
    if (PQstatus(conn_) == CONNECTION_BAD) return fail_operation(lost_error("PostgreSQL connection lost"));
    if (PQisBusy(conn_)) {
      return wait(wait_type::wait_read, [this] {
        if (PQconsumeInput(conn_) != 1) return fail_operation(lost_error("PostgreSQL connection lost"));
        read_results();
      });
    }
    if (!take_result(PQgetResult(conn_))) return;
  }
}

void async_connection::enter_step() {
  auto& st = *exec_;
  const auto& now = st.steps[st.at];
  if (now.kind != step_kind::prepare && now.kind != step_kind::execute) return;
  st.index = now.statement;
  if (now.kind == step_kind::execute) PQsetSingleRowMode(conn_);
}

void async_connection::next_step() {
  auto& st = *exec_;
  auto& done = st.steps[st.at];
  if (done.kind == step_kind::prepare && done.prepared) {
    statements_.insert(key_of(st.group.queries[done.statement]), done.name);
  }
  if (st.at + 1 < st.steps.size()) ++st.at;
  enter_step();
}

// One result of the pipeline; false once the group is over (its last sync came, or it failed).
bool async_connection::take_result(PGresult* raw) {
  auto& st = *exec_;
  if (!raw) {  // the end of one step's results
    next_step();
    return true;
  }
  result_ptr r(raw);
  const auto status = PQresultStatus(r.get());
  if (status == PGRES_PIPELINE_SYNC) {
    if (st.steps[st.at].kind != step_kind::sync) {
      finish_exec();
      return false;
    }
    next_step();  // the end of a statement's own group, aside
    return true;
  }
  if ((status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) && PQstatus(conn_) == CONNECTION_BAD) {
    fail_operation(lost_error(PQresultErrorMessage(r.get())));
    return false;
  }
  return take_step_result(st.steps[st.at], r.get());
}

bool async_connection::take_step_result(step& now, PGresult* r) {
  const auto status = PQresultStatus(r);
  if (status == PGRES_PIPELINE_ABORTED) return true;  // after an earlier failure of the group
  if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) {
    take_failure(now, r);
    return true;
  }
  switch (now.kind) {
    case step_kind::aside: return true;
    case step_kind::prepare: now.prepared = status == PGRES_COMMAND_OK; return true;
    default: break;
  }
  switch (status) {
    case PGRES_SINGLE_TUPLE: add_rows(r); return true;
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
      add_rows(r);
      end_of_statement(r);
      return true;
    default:  // COPY: the pipeline has no way through it; the connection is of no further use
      fail_operation(
          coded(sqlstate_connection_lost, "COPY is not supported by exec()", sql_at(exec_->group, exec_->index)));
      return false;
  }
}

// A DEALLOCATE that fails is no statement's failure: the name is gone either way. A prepare that
// fails is its statement's (nothing cached). A prepared statement whose plan cannot be reused is
// forgotten; if nothing of the group stayed (it began outside a transaction, committed nothing
// before), the group runs once more, as PostgreSQL would have parsed an unnamed statement afresh.
void async_connection::take_failure(const step& now, PGresult* r) {
  auto& st = *exec_;
  if (now.kind == step_kind::aside) return;
  auto e = error_of(r, sql_at(st.group, st.index));
  if (now.kind == step_kind::execute && !now.name.empty() && prepared_statement_gone(e.sqlstate)) {
    statements_.evict(key_of(st.group.queries[now.statement]), now.name, e.sqlstate != "26000");
    st.retry = !st.failure && st.started_idle && !st.ended_transaction && !st.retried;
  }
  if (!st.failure) st.failure = exec_failure{std::move(e), st.index};
}

void async_connection::add_rows(PGresult* r) {
  auto& st = *exec_;
  const int count = PQntuples(r);
  if (st.failure || count == 0 || st.index >= st.results.size() || !st.group.keep_rows) return;
  const int columns = PQnfields(r);
  auto& rows = st.results[st.index].rows;
  for (int i = 0; i < count; ++i) {
    std::vector<std::optional<std::string>> row;
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(r, i, c)) {
        row.emplace_back(std::nullopt);
      } else {
        st.bytes += static_cast<std::size_t>(PQgetlength(r, i, c));
        row.emplace_back(std::string(PQgetvalue(r, i, c), PQgetlength(r, i, c)));
      }
    }
    if (++st.rows > st.group.max_rows || st.bytes > st.group.max_bytes) {
      st.failure = exec_failure{coded(sqlstate_result_too_large,
                                      "the result is over the limit of " + std::to_string(st.group.max_rows) +
                                          " rows or " + std::to_string(st.group.max_bytes) + " bytes",
                                      sql_at(st.group, st.index)),
                                st.index};
      std::vector<query_result>(st.results.size()).swap(st.results);  // gives the rows' memory back now
      return;
    }
    rows.push_back(std::move(row));
  }
}

void async_connection::end_of_statement(PGresult* r) {
  auto& st = *exec_;
  if (st.index >= st.results.size()) return;
  auto& out = st.results[st.index];
  const int columns = PQnfields(r);
  out.columns.clear();
  out.column_oids.clear();
  for (int c = 0; c < columns; ++c) {
    out.columns.emplace_back(PQfname(r, c));
    out.column_oids.push_back(PQftype(r, c));
  }
  out.command_tag = PQcmdStatus(r);
  const std::string_view tag = out.command_tag;
  if (tag.starts_with("COMMIT") || tag.starts_with("ROLLBACK") || tag.starts_with("PREPARE"))
    st.ended_transaction = true;
  const char* affected = PQcmdTuples(r);
  out.rows_affected = affected && *affected ? std::atoll(affected) : 0;
}

void async_connection::finish_exec() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (exec_->retry) return retry_group();
  auto st = std::move(exec_);
  if (op_ == operation::executing) op_ = operation::none;
  publish_state();
  if (st->failure) return st->handler(std::move(*st->failure));
  st->handler(std::move(st->results));
}

void async_connection::retry_group() {
  auto st = std::move(exec_);
  run_group(std::move(st->group), std::move(st->handler), true, true);
}

void async_connection::fail_exec(error e) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto st = std::move(exec_);
  op_ = operation::none;
  if (e.sqlstate == sqlstate_connection_lost) mark_broken();
  publish_state();
  const auto index = st->group.queries.empty() ? 0 : std::min(st->index, st->group.queries.size() - 1);
  st->handler(exec_failure{std::move(e), index});
}

}  // namespace monolite::pg
