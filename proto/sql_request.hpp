// Requests of /sql/query, /sql/execute and /sql/batch as plain data, decoded from JSON.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.hpp"
#include "proto/value.hpp"

namespace monolite::proto {

struct named_param {
  std::string name;  // as sent: ":id", "@id", "$id" or bare "id"
  value val;
};

struct statement {
  std::string sql;
  std::vector<value> positional;
  std::vector<named_param> named;
};

// What the writer runs as one unit: all statements commit together or not at all.
struct write_request {
  std::vector<statement> statements;
  bool want_rows = false;  // /sql/batch returns rows; /sql/execute only counts
};

// {"sql": "...", "params": [...] | {...}}
result<statement> decode_query(std::string_view body);
// {"sql", "params"} or {"statements": [{"sql", "params"}, ...]}
result<write_request> decode_execute(std::string_view body);
// {"statements": [...]}
result<write_request> decode_batch(std::string_view body);

}  // namespace monolite::proto
