// exec(): a group of statements in libpq's pipeline mode, one sync, so one round trip; each
// statement's rows come one by one (single-row mode) so the group's limits bound the memory held.
#include <libpq-fe.h>

#include <boost/asio/post.hpp>
#include <cstdlib>
#include <memory>

#include "common/strand_check.hpp"
#include "pg/async_connection.hpp"

namespace monolite::pg {
namespace asio = boost::asio;
using wait_type = asio::posix::descriptor_base::wait_type;

namespace {

constexpr std::size_t max_params = 65535;  // the protocol counts parameters in 16 bits

struct result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

std::string field_of(const PGresult* r, int code) {
  const char* value = PQresultErrorField(r, code);
  return value ? value : "";
}

error server_error(const PGresult* r, const std::string& statement) {
  error e;
  e.sqlstate = field_of(r, PG_DIAG_SQLSTATE);
  e.message = field_of(r, PG_DIAG_MESSAGE_PRIMARY);
  if (e.message.empty()) e.message = PQresultErrorMessage(r);
  e.detail = field_of(r, PG_DIAG_MESSAGE_DETAIL);
  e.hint = field_of(r, PG_DIAG_MESSAGE_HINT);
  e.position = std::atoi(field_of(r, PG_DIAG_STATEMENT_POSITION).c_str());
  e.statement = statement;
  return e;
}

error coded(const char* sqlstate, std::string message, std::string statement = {}) {
  error e = connection_error(std::move(message));
  e.sqlstate = sqlstate;
  e.statement = std::move(statement);
  return e;
}

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
  run_group(std::move(group), std::move(handler));
}

void async_connection::run_group(query_group group, exec_handler handler) {
  exec_ = std::make_unique<exec_state>();
  exec_->results.resize(group.queries.size());
  exec_->group = std::move(group);
  exec_->handler = std::move(handler);
  state_.store(transaction_status::unknown, std::memory_order_release);
  // A send that fails leaves the group without its sync: the server commits none of it.
  if (!send_group()) return fail_operation(lost_error("cannot send to PostgreSQL"));
  flush();
}

bool async_connection::send_group() {
  for (const auto& q : exec_->group.queries) {
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
    if (PQsendQueryParams(conn_, q.sql.c_str(), static_cast<int>(q.params.size()), types.data(), values.data(),
                          lengths.data(), formats.data(), q.result_format) != 1) {
      return false;
    }
  }
  if (PQpipelineSync(conn_) != 1) return false;
  if (!exec_->group.queries.empty()) PQsetSingleRowMode(conn_);  // for the first statement
  return true;
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

// One result of the pipeline; false once the group is over (its sync came, or it failed).
bool async_connection::take_result(PGresult* raw) {
  auto& st = *exec_;
  if (!raw) {  // the end of one statement's results
    if (++st.index < st.group.queries.size()) PQsetSingleRowMode(conn_);
    return true;
  }
  result_ptr r(raw);
  switch (PQresultStatus(r.get())) {
    case PGRES_PIPELINE_SYNC: finish_exec(); return false;
    case PGRES_SINGLE_TUPLE: add_rows(r.get()); return true;
    case PGRES_TUPLES_OK:
    case PGRES_COMMAND_OK:
    case PGRES_EMPTY_QUERY:
      add_rows(r.get());
      end_of_statement(r.get());
      return true;
    case PGRES_PIPELINE_ABORTED: return true;  // after an earlier failure of the group
    case PGRES_FATAL_ERROR:
    case PGRES_BAD_RESPONSE:
      if (PQstatus(conn_) == CONNECTION_BAD) {
        fail_operation(lost_error(PQresultErrorMessage(r.get())));
        return false;
      }
      if (!st.failure) st.failure = exec_failure{server_error(r.get(), sql_at(st.group, st.index)), st.index};
      return true;
    default:  // COPY: the pipeline has no way through it; the connection is of no further use
      fail_operation(coded(sqlstate_connection_lost, "COPY is not supported by exec()", sql_at(st.group, st.index)));
      return false;
  }
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
  const char* affected = PQcmdTuples(r);
  out.rows_affected = affected && *affected ? std::atoll(affected) : 0;
}

void async_connection::finish_exec() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto st = std::move(exec_);
  if (op_ == operation::executing) op_ = operation::none;
  publish_state();
  if (st->failure) return st->handler(std::move(*st->failure));
  st->handler(std::move(st->results));
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
