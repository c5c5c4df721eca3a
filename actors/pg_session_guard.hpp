// What a client's statement may not do to a pooled PostgreSQL connection, which the next request
// (anyone's) runs on: change its session (SET, RESET, DISCARD, PREPARE, LISTEN, LOAD...), or, on
// /sql/* where each request is already one transaction, control transactions. The PostgreSQL
// counterpart of SQLite's sandbox (db/sandbox.hpp), by leading keywords: a function such as
// set_config(..., false) still can change a session (docs/security.md).
#pragma once
#include <optional>
#include <string_view>

#include "proto/error.hpp"

namespace monolite::actors {

enum class pg_statement_origin {
  request,  // /sql/query, /sql/execute, /sql/batch: one transaction per request
  stream,   // a Hrana stream: BEGIN, COMMIT, ROLLBACK and SAVEPOINT are its own
};

// 403 SQLITE_AUTH, as SQLite's sandbox answers, when the statement is refused.
std::optional<proto::api_error> refuse_session_change(std::string_view sql, pg_statement_origin origin);

}  // namespace monolite::actors
