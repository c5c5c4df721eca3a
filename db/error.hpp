// SQLite result codes as stable API errors: SQLite's own name as the code
// (SQLITE_CONSTRAINT_UNIQUE, ...) and an HTTP status by the code's class.
#pragma once
#include <string>
#include <string_view>

#include "proto/error.hpp"

struct sqlite3;

namespace monolite::db {

std::string_view sqlite_code_name(int extended_code);

// 409 constraint, 403 auth, 503 busy/locked, 504 interrupt, 413 too big,
// 400 the request's own fault (syntax, mismatch, readonly...), 500 otherwise.
proto::api_error sqlite_error(int extended_code, std::string message);

// The connection's last error.
proto::api_error sqlite_error(sqlite3* connection);

}  // namespace monolite::db
