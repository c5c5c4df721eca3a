#include "actors/pg_statements.hpp"

#include <cstring>
#include <string_view>

#include "actors/pg_pool.hpp"
#include "pg/error_map.hpp"
#include "pg/placeholders.hpp"
#include "pg/values.hpp"

namespace monolite::actors {

proto::result<pg::query> to_pg_query(const proto::statement& statement, const pg_sql_limits& limits,
                                     pg_statement_origin origin) {
  if (auto refusal = refuse_session_change(statement.sql, origin)) return *refusal;
  if (limits.max_sql_length > 0 && statement.sql.size() > static_cast<std::size_t>(limits.max_sql_length))
    return proto::api_error{413, "SQLITE_TOOBIG",
                            "the SQL text is longer than " + std::to_string(limits.max_sql_length) + " bytes"};
  auto translated = pg::translate_placeholders(statement.sql, limits.max_params);
  if (!translated) return translated.error();
  // What SQLite's prepare answers (db/connection.cpp): one statement per "sql".
  if (translated->statements == 0) return proto::bad_request("empty SQL statement");
  if (translated->statements > 1)
    return proto::bad_request("\"sql\" holds more than one statement; send each in \"statements\"");
  auto values = pg::bind_placeholders(*translated, statement);
  if (!values) return values.error();
  auto params = pg::param_list::from(*values);
  if (!params) return params.error();
  pg::query q;
  q.sql = std::move(translated->sql);
  q.params.reserve(static_cast<std::size_t>(params->size()));
  for (int i = 0; i < params->size(); ++i) {
    const char* bytes = params->values()[i];
    const bool binary = params->formats()[i] == 1;
    const std::size_t length =
        bytes ? (binary ? static_cast<std::size_t>(params->lengths()[i]) : std::strlen(bytes)) : 0;
    q.params.push_back(pg::param{params->types()[i], bytes ? std::string(bytes, length) : std::string(),
                                 params->formats()[i], bytes == nullptr});
  }
  return q;
}

pg::query plain_query(const char* sql) { return pg::query{sql, {}, 0}; }

pg::query_group capped_group(std::vector<pg::query> queries, const pg_sql_limits& limits) {
  pg::query_group group;
  group.queries = std::move(queries);
  if (limits.max_result_rows) group.max_rows = limits.max_result_rows;
  if (limits.max_result_bytes) group.max_bytes = limits.max_result_bytes;
  return group;
}

namespace {

// SQLite counts rows changed by INSERT, UPDATE and DELETE only; a SELECT's tag counts rows read.
bool counts_changes(std::string_view tag) {
  for (std::string_view verb : {"INSERT", "UPDATE", "DELETE", "MERGE"})
    if (tag.substr(0, verb.size()) == verb) return true;
  return false;
}

}  // namespace

proto::result<proto::statement_result> to_statement_result(pg::query_result&& result, bool want_rows) {
  proto::statement_result out;
  out.columns = std::move(result.columns);
  out.last_insert_id.reset();
  if (counts_changes(result.command_tag)) out.rows_affected = result.rows_affected;
  if (!want_rows) return out;
  out.decltypes.reserve(result.column_oids.size());
  for (unsigned oid : result.column_oids)
    out.decltypes.emplace_back(pg::type_name(oid));
  out.rows.reserve(result.rows.size());
  for (auto& row : result.rows) {
    auto& values = out.rows.emplace_back();
    values.reserve(row.size());
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (!row[c]) {
        values.emplace_back();
        continue;
      }
      auto v = pg::value_from_text(result.column_oids[c], *row[c]);
      if (!v) return v.error();
      values.push_back(std::move(*v));
    }
  }
  return out;
}

proto::api_error to_api_error(const pg::error& e, const pg_sql_limits& limits) {
  if (e.sqlstate == pg::sqlstate_result_too_large)
    return proto::api_error{400, "RESULT_TOO_LARGE",
                            "the result exceeds " + std::to_string(limits.max_result_rows) + " rows or " +
                                std::to_string(limits.max_result_bytes) + " bytes; add a LIMIT or page with a WHERE"};
  if (e.sqlstate == sqlstate_overloaded) return proto::overloaded("every PostgreSQL connection is busy; retry shortly");
  if (e.sqlstate == sqlstate_not_ready)
    return proto::not_ready("no connection to PostgreSQL could be made: " + e.message);
  return pg::api_error_from(e);
}

}  // namespace monolite::actors
