#include "actors/hrana_requests.hpp"

#include <algorithm>

#include "db/sql_text.hpp"
#include "proto/hrana_encode.hpp"

namespace monolite::actors::hrana {

boost::system::result<std::string, ph::error> resolve_sql(const std::optional<std::string>& sql,
                                                          const std::optional<std::int32_t>& sql_id,
                                                          const stored_sqls& sqls) {
  if (sql && sql_id) return ph::error{"give \"sql\" or \"sql_id\", not both", "INVALID_REQUEST"};
  if (sql) return {boost::system::in_place_value, *sql};
  if (!sql_id) return ph::error{"the request needs \"sql\" or \"sql_id\"", "INVALID_REQUEST"};
  const auto it = sqls.find(*sql_id);
  if (it == sqls.end())
    return ph::error{"no SQL text is stored under sql_id " + std::to_string(*sql_id) + " in this stream",
                     "SQL_NOT_FOUND"};
  return {boost::system::in_place_value, it->second};
}

step make_step(const ph::stmt& st, std::optional<ph::condition> cond, const stored_sqls& sqls) {
  step out;
  out.cond = std::move(cond);
  out.want_rows = st.want_rows;
  auto sql = resolve_sql(st.sql, st.sql_id, sqls);
  if (!sql) {
    out.invalid = sql.error();
  } else if (!st.args.empty() && !st.named_args.empty()) {
    out.invalid =
        ph::error{"a statement takes positional or named arguments, not both", "ARGS_BOTH_POSITIONAL_AND_NAMED"};
  } else {
    out.stmt = proto::statement{std::move(*sql), st.args, st.named_args};
  }
  return out;
}

ph::stream_result of_kind(ph::request_kind kind) {
  ph::stream_result r;
  r.kind = kind;
  return r;
}

bool condition_holds(const ph::condition& c, const std::vector<ph::step_outcome>& done, bool autocommit) {
  using kind = ph::condition::kind;
  auto each = [&](const ph::condition& inner) { return condition_holds(inner, done, autocommit); };
  switch (c.type) {
    case kind::ok: return c.step < done.size() && done[c.step].status == ph::step_outcome::state::ok;
    case kind::error: return c.step < done.size() && done[c.step].status == ph::step_outcome::state::failed;
    case kind::not_: return c.conds.empty() || !each(c.conds.front());
    case kind::and_: return std::all_of(c.conds.begin(), c.conds.end(), each);
    case kind::or_: return std::any_of(c.conds.begin(), c.conds.end(), each);
    case kind::is_autocommit: return autocommit;
  }
  return false;
}

ph::error statement_error(const proto::api_error& e, const std::string& sql) {
  if (e.code == "BAD_REQUEST") {
    const auto n = db::split_statements(sql).size();
    if (n == 0) return ph::error{"the SQL text holds no statement", "SQL_NO_STATEMENT"};
    if (n > 1)
      return ph::error{"the SQL text holds " + std::to_string(n) +
                           " statements; a statement request takes exactly one (send several as a batch or a sequence)",
                       "SQL_MANY_STATEMENTS"};
  }
  return ph::from_api_error(e);
}

std::optional<ph::error> store_sql_in(stored_sqls& sqls, const ph::stream_request& request, std::size_t max_stored,
                                      std::size_t max_bytes) {
  if (sqls.count(*request.sql_id))
    return ph::error{"sql_id " + std::to_string(*request.sql_id) + " is already in use in this stream",
                     "SQL_STORE_EXISTS"};
  if (sqls.size() >= max_stored)
    return ph::error{"a stream stores at most " + std::to_string(max_stored) + " SQL texts; close some with close_sql",
                     "SQL_STORE_TOO_MANY"};
  if (request.sql->size() > max_bytes)
    return ph::error{"a stored SQL text may hold at most " + std::to_string(max_bytes) + " bytes",
                     "SQL_STORE_TOO_LARGE"};
  sqls.emplace(*request.sql_id, *request.sql);
  return std::nullopt;
}

}  // namespace monolite::actors::hrana
