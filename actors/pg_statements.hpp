// The PostgreSQL engine's translation: an API statement becomes a libpq query ($n placeholders,
// typed parameters), a libpq result becomes the API's statement result, and a PostgreSQL failure
// becomes the API's error with the codes SQLite would give (pg/placeholders, pg/values,
// pg/error_map do the pure work). Plain functions, any thread.
#pragma once
#include <cstddef>

#include "pg/async_connection.hpp"
#include "proto/error.hpp"
#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"

namespace monolite::actors {

// The caps the SQLite connections enforce, enforced alike (server::settings; 0: none).
struct pg_sql_limits {
  int max_sql_length = 0;
  int max_params = 0;
  std::size_t max_result_rows = 0;
  std::size_t max_result_bytes = 0;
};

proto::result<pg::query> to_pg_query(const proto::statement& statement, const pg_sql_limits& limits);
// A statement we add around the client's (BEGIN READ ONLY, COMMIT...): no parameters.
pg::query plain_query(const char* sql);
// A group with the result caps of `limits`.
pg::query_group capped_group(std::vector<pg::query> queries, const pg_sql_limits& limits);

// Columns, rows and counts; `want_rows` false keeps only the counts (/sql/execute). last_insert_id
// is empty: PostgreSQL has no rowid (RETURNING gives the keys).
proto::result<proto::statement_result> to_statement_result(pg::query_result&& result, bool want_rows);

// ML001 (over the caps) → 400 RESULT_TOO_LARGE as on SQLite; the pool's ML002/ML003 → 503
// OVERLOADED / NOT_READY; PostgreSQL's own → pg/error_map.
proto::api_error to_api_error(const pg::error& e, const pg_sql_limits& limits);

}  // namespace monolite::actors
