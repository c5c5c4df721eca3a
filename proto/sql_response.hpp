// Results of SQL statements as plain data, and their JSON response bodies.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "proto/value.hpp"

namespace monolite::proto {

struct statement_result {
  std::vector<std::string> columns;
  std::vector<std::vector<value>> rows;
  std::int64_t rows_affected = 0;
  std::int64_t last_insert_id = 0;
};

// {"columns": [...], "rows": [[...]], "time_ms": t}
std::string encode_query_response(const statement_result& result, double time_ms);
// {"results": [{"rows_affected", "last_insert_id"}], "time_ms": t}
std::string encode_execute_response(const std::vector<statement_result>& results, double time_ms);
// {"results": [{"columns", "rows", "rows_affected", "last_insert_id"}], "time_ms": t}
std::string encode_batch_response(const std::vector<statement_result>& results, double time_ms);

}  // namespace monolite::proto
