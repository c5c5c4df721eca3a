// libpq results as both clients (connection, async_connection) hold and read them: owned by a
// unique_ptr that PQclears, and a failed one's fields as a pg::error.
#pragma once
#include <libpq-fe.h>

#include <memory>
#include <string>

#include "pg/error.hpp"

namespace monolite::pg {

struct result_deleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using result_ptr = std::unique_ptr<PGresult, result_deleter>;

// libpq's message without its trailing newline.
std::string trimmed(std::string text);

// PostgreSQL's fields of a failed result; `statement` is the SQL that failed.
error error_of(const PGresult* r, const std::string& statement);

}  // namespace monolite::pg
