// A decoded statement turned into one result row (its text, then every parameter), so fuzzed
// values reach the real response encoders. Shared by the fuzz targets.
#pragma once
#include <cstdint>

#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"

namespace monolite::fuzz {

inline proto::statement_result statement_as_result(const proto::statement& s) {
  proto::statement_result result;
  result.columns.push_back(s.sql);
  result.rows.emplace_back();
  result.rows.back().push_back(s.sql);
  for (const auto& v : s.positional) {
    result.columns.push_back("?");
    result.rows.back().push_back(v);
  }
  for (const auto& p : s.named) {
    result.columns.push_back(p.name);
    result.rows.back().push_back(p.val);
  }
  result.rows_affected = static_cast<std::int64_t>(s.positional.size());
  result.last_insert_id = -static_cast<std::int64_t>(s.named.size());
  return result;
}

}  // namespace monolite::fuzz
