// One group-commit transaction on the write connection: BEGIN IMMEDIATE, each request inside its
// own SAVEPOINT (a failing request rolls back alone), then COMMIT. Plain functions over db/,
// called only from the writer actor's strand.
#pragma once
#include <vector>

#include "actors/sql_outcomes.hpp"
#include "db/connection.hpp"
#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"

namespace monolite::actors {

// Runs every request and commits those that succeeded. Returns one outcome per request, in order.
// When BEGIN or COMMIT fails every request gets the error: nobody is told "committed" unless
// COMMIT returned OK. When one request makes SQLite abort the whole transaction, it alone fails
// and the rest run again in a new transaction.
std::vector<write_outcome> run_group_commit(db::connection& conn,
                                            const std::vector<const proto::write_request*>& requests);

}  // namespace monolite::actors
