// The portability check: each statement a server logged (serve --statement-log) prepared in
// PostgreSQL against the moved schema, inside one transaction that is rolled back, so nothing
// in the target changes. Placeholders are translated first; a parameter whose type PostgreSQL
// cannot settle on its own is ours to cast, so it never counts as a failure.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "move/sqlite_isms.hpp"
#include "pg/connection.hpp"

namespace monolite::move {

struct logged_statement {
  std::string sql;
  std::uint64_t count = 0;
  std::int64_t first_seen = 0;  // unix seconds
  std::int64_t last_seen = 0;
};

// The statement log's JSON lines ({"sql", "count", "first_seen", "last_seen"} each).
// Errors name the file and the line.
boost::system::result<std::vector<logged_statement>, std::string> read_statement_log(const std::string& path);

struct statement_check {
  logged_statement statement;
  statement_kind kind = statement_kind::query;
  bool passed = true;
  std::string problem;              // why it failed: PostgreSQL's error, or why it cannot run there
  std::string sqlstate;             // PostgreSQL's, when it answered one
  std::vector<sqlite_ism> instead;  // what to write instead
};

struct portability_report {
  std::vector<statement_check> checks;  // most-run first
  std::size_t failed = 0;
};

// `schema`: where the moved tables are (put first on the search path).
pg::result<portability_report> check_portability(pg::connection& target, std::vector<logged_statement> statements,
                                                 const std::string& schema);

}  // namespace monolite::move
