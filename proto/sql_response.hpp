// Results of SQL statements as plain data, and their JSON response bodies.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proto/value.hpp"

namespace monolite::proto {

struct statement_result {
  std::vector<std::string> columns;
  // Declared types of the columns ("" when a column is an expression); filled only on request.
  std::vector<std::string> decltypes;
  std::vector<std::vector<value>> rows;
  std::int64_t rows_affected = 0;
  // Empty where the engine has no rowid (PostgreSQL: RETURNING is the way); JSON null then.
  std::optional<std::int64_t> last_insert_id{0};
};

// What a prepared statement takes and gives, without running it. Names are "" when absent
// (a plain `?` parameter, an expression's declared type).
struct statement_description {
  std::vector<std::string> params;
  std::vector<std::string> columns;
  std::vector<std::string> decltypes;
  bool is_explain = false;
  bool is_readonly = true;
};

// {"columns": [...], "rows": [[...]], "time_ms": t}
std::string encode_query_response(const statement_result& result, double time_ms);
// {"results": [{"rows_affected", "last_insert_id"}], "time_ms": t}
std::string encode_execute_response(const std::vector<statement_result>& results, double time_ms);
// {"results": [{"columns", "rows", "rows_affected", "last_insert_id"}], "time_ms": t}
std::string encode_batch_response(const std::vector<statement_result>& results, double time_ms);

}  // namespace monolite::proto
