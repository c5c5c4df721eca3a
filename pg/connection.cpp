#include "pg/connection.hpp"

#include <libpq-fe.h>

#include <cstdlib>
#include <memory>

#include "pg/result.hpp"

namespace monolite::pg {
namespace {

rows rows_of(const PGresult* r) {
  rows out;
  const int columns = PQnfields(r);
  const int count = PQntuples(r);
  for (int c = 0; c < columns; ++c)
    out.columns.emplace_back(PQfname(r, c));
  out.values.reserve(count);
  for (int i = 0; i < count; ++i) {
    auto& row = out.values.emplace_back();
    row.reserve(columns);
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(r, i, c)) {
        row.emplace_back(std::nullopt);
      } else {
        row.emplace_back(std::string(PQgetvalue(r, i, c), PQgetlength(r, i, c)));
      }
    }
  }
  const char* affected = PQcmdTuples(const_cast<PGresult*>(r));
  out.affected = affected && *affected ? std::atoll(affected) : 0;
  return out;
}

bool is_ok(const PGresult* r) {
  const auto status = PQresultStatus(r);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

result<connection> connection::open(const std::string& url) {
  pg_conn* conn = PQconnectdb(url.c_str());
  if (!conn) return connection_error("out of memory opening a PostgreSQL connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    error e = connection_error(trimmed(PQerrorMessage(conn)));
    PQfinish(conn);
    return e;
  }
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);  // NOTICEs are not errors; a tool stays quiet
  connection opened(conn);
  // The text forms the move parses back: ISO dates, hex bytea, UTF-8, exact floats.
  auto settings = opened.exec(
      "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD'; SET bytea_output = 'hex'; "
      "SET extra_float_digits = 1; SET IntervalStyle = 'postgres'; SET TimeZone = 'UTC'");
  if (!settings) return settings.error();
  return opened;
}

connection::connection(connection&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    if (conn_) PQfinish(conn_);
    conn_ = other.conn_;
    other.conn_ = nullptr;
  }
  return *this;
}

connection::~connection() {
  if (conn_) PQfinish(conn_);
}

error connection::last_error(const std::string& statement) const {
  error e = connection_error(trimmed(PQerrorMessage(conn_)));
  e.statement = statement;
  if (PQstatus(conn_) == CONNECTION_OK) e.sqlstate = "XX000";
  return e;
}

result<rows> connection::exec(const std::string& sql) {
  result_ptr r(PQexec(conn_, sql.c_str()));
  if (!r) return last_error(sql);
  if (!is_ok(r.get())) return error_of(r.get(), sql);
  return rows_of(r.get());
}

result<rows> connection::exec_params(const std::string& sql, const std::vector<field>& params) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  result_ptr r(
      PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0));
  if (!r) return last_error(sql);
  if (!is_ok(r.get())) return error_of(r.get(), sql);
  return rows_of(r.get());
}

result<void> connection::prepare(const std::string& name, const std::string& sql) {
  result_ptr r(PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr));
  if (!r) return last_error(sql);
  if (!is_ok(r.get())) return error_of(r.get(), sql);
  return {};
}

result<void> connection::copy_in(const std::string& sql) {
  result_ptr r(PQexec(conn_, sql.c_str()));
  if (!r) return last_error(sql);
  if (PQresultStatus(r.get()) != PGRES_COPY_IN) return error_of(r.get(), sql);
  return {};
}

result<void> connection::put(std::string_view data) {
  if (PQputCopyData(conn_, data.data(), static_cast<int>(data.size())) != 1) return last_error("COPY data");
  return {};
}

result<std::int64_t> connection::finish() {
  if (PQputCopyEnd(conn_, nullptr) != 1) return last_error("COPY end");
  result_ptr r(PQgetResult(conn_));
  if (!r) return last_error("COPY end");
  auto outcome = is_ok(r.get()) ? result<std::int64_t>(rows_of(r.get()).affected) : error_of(r.get(), "COPY");
  while (result_ptr rest{PQgetResult(conn_)}) {}
  return outcome;
}

result<std::int64_t> connection::copy_out(const std::string& sql, const std::function<void(std::string_view)>& sink) {
  result_ptr r(PQexec(conn_, sql.c_str()));
  if (!r) return last_error(sql);
  if (PQresultStatus(r.get()) != PGRES_COPY_OUT) return error_of(r.get(), sql);
  std::int64_t count = 0;
  for (;;) {
    char* line = nullptr;
    const int size = PQgetCopyData(conn_, &line, 0);
    if (size < 0) break;
    sink(std::string_view(line, size));
    PQfreemem(line);
    ++count;
  }
  result_ptr done(PQgetResult(conn_));
  if (!done) return last_error(sql);
  if (!is_ok(done.get())) return error_of(done.get(), sql);
  while (result_ptr rest{PQgetResult(conn_)}) {}
  return count;
}

std::string connection::server_version() const {
  const int v = PQserverVersion(conn_);
  return std::to_string(v / 10000) + "." + std::to_string(v % 10000);
}

}  // namespace monolite::pg
