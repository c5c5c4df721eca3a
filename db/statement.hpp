// Runs one API statement on a connection: prepare (cached), bind, step, read values exactly.
#pragma once
#include "db/connection.hpp"
#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"

namespace monolite::db {

struct run_options {
  bool require_read_only = false;  // refuse statements that would write (400 READONLY)
  bool want_rows = true;           // false: step through rows but do not keep them
};

proto::result<proto::statement_result> run_statement(connection& conn,
                                                     const proto::statement& statement,
                                                     run_options options);

}  // namespace monolite::db
