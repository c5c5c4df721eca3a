// The PostgreSQL side of a move: one move at a time per database (an advisory lock that dies
// with the session), staging schemas of earlier, killed runs dropped, names that already exist
// in the target, statements built over several connections, and the final transaction.
#pragma once
#include <string>
#include <vector>

#include "move/ddl.hpp"
#include "move/schema.hpp"
#include "pg/connection.hpp"

namespace monolite::move {

inline constexpr const char* staging_prefix = "monolite_move_";

// Takes the move lock on `pg` (held until the connection closes); false when another move holds it.
pg::result<bool> take_move_lock(pg::connection& pg);
// Drops every monolite_move_* schema: with the lock held, they are left by runs that died.
pg::result<int> drop_stale_staging(pg::connection& pg);
// The tables and views of `schema` among `names`.
pg::result<std::vector<std::string>> existing_relations(pg::connection& pg, const std::string& schema,
                                                        const std::vector<std::string>& names);
// Runs `statements` over `jobs` connections to `url` (search_path = `schema`); those PostgreSQL
// refuses are appended to `refused` with its message. Connection errors are returned.
pg::result<void> run_parallel(const std::string& url, const std::string& schema,
                              const std::vector<statement>& statements, int jobs, std::vector<untranslated>& refused);
// Runs each statement on `pg`; those PostgreSQL refuses go to `refused`.
pg::result<void> run_each(pg::connection& pg, const std::vector<statement>& statements,
                          std::vector<untranslated>& refused);

struct final_move {
  std::string staging, target;
  std::vector<std::string> tables, views, replaced;
  bool move_collation = false;
};
// One transaction: the target schema created if missing, `replaced` dropped, every table and view
// moved, the staging schema dropped.
pg::result<void> commit_move(pg::connection& pg, const final_move& plan);

}  // namespace monolite::move
