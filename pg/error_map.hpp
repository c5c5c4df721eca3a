// PostgreSQL's errors as the API's: the status and SQLite code a client of the SQLite engine would
// get for the same mistake (so clients need no change), with PostgreSQL's SQLSTATE beside them.
#pragma once
#include "pg/error.hpp"
#include "proto/error.hpp"

namespace monolite::pg {

// Constraint violations 409 SQLITE_CONSTRAINT_*; permission 403 SQLITE_AUTH; statement_timeout 504
// SQLITE_INTERRUPT; a write in a read-only transaction 400 READONLY; serialization failures,
// deadlocks and lock timeouts 503 SQLITE_BUSY; a broken connection or a restarting server 503
// NOT_READY; insufficient resources 503 OVERLOADED (all 503s with Retry-After 1); program limits
// 413 SQLITE_TOOBIG; bad data 400 SQLITE_MISMATCH; other faults of the statement 400 SQLITE_ERROR;
// the server's own faults 500. The message is PostgreSQL's, with its detail and hint.
proto::api_error api_error_from(const error& e);

}  // namespace monolite::pg
