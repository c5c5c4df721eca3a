// Runs one API statement on a connection: prepare (cached), bind, step, read values exactly.
#pragma once
#include "db/connection.hpp"
#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"

namespace monolite::db {

struct run_options {
  bool require_read_only = false;  // refuse statements that would write (400 READONLY)
  bool want_rows = true;           // false: step through rows but do not keep them
  bool column_types = false;       // also fill statement_result::decltypes
};

proto::result<proto::statement_result> run_statement(connection& conn, const proto::statement& statement,
                                                     run_options options);

// Prepares (under the sandbox, through the cache) and describes without running: parameter
// names, result columns with their declared types, EXPLAIN, read-only.
proto::result<proto::statement_description> describe_statement(connection& conn, const std::string& sql);

}  // namespace monolite::db
