// What every Hrana service does alike, whichever engine runs the statements: SQL texts resolved
// from a stream's store, batch steps built and their conditions evaluated, store_sql's limits.
// Pure functions over the stream's state.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "proto/hrana.hpp"

namespace monolite::actors::hrana {
namespace ph = proto::hrana;

using stored_sqls = std::unordered_map<std::int32_t, std::string>;

// One statement of a batch on its way: what it runs, or why it fails unrun.
struct step {
  std::optional<ph::condition> cond;
  proto::statement stmt;
  bool want_rows = true;
  std::optional<ph::error> invalid;  // could not be resolved (unknown sql_id, ...): fails unrun
};

boost::system::result<std::string, ph::error> resolve_sql(const std::optional<std::string>& sql,
                                                          const std::optional<std::int32_t>& sql_id,
                                                          const stored_sqls& sqls);
step make_step(const ph::stmt& st, std::optional<ph::condition> cond, const stored_sqls& sqls);
ph::stream_result of_kind(ph::request_kind kind);
// Whether a step's condition holds, given the outcomes of the steps before it.
bool condition_holds(const ph::condition& c, const std::vector<ph::step_outcome>& done, bool autocommit);
// A statement's error as Hrana names it: the API's BAD_REQUEST for a text holding no statement or
// several becomes SQL_NO_STATEMENT or SQL_MANY_STATEMENTS.
ph::error statement_error(const proto::api_error& e, const std::string& sql);
// Stores the request's SQL text under its id, or says why not (in use, too many, too large).
std::optional<ph::error> store_sql_in(stored_sqls& sqls, const ph::stream_request& request, std::size_t max_stored,
                                      std::size_t max_bytes);

}  // namespace monolite::actors::hrana
