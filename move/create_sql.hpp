// What the PRAGMAs do not tell about a table, read from its CREATE TABLE text: CHECK
// constraints (column and table level) and the expressions of generated columns; and the
// rewriting of SQLite expression text into PostgreSQL's quoting. Pure: no I/O.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace monolite::move {

struct create_table_parts {
  std::map<std::string, std::vector<std::string>> column_checks;  // column name → CHECK expressions
  std::map<std::string, std::string> generated;                   // column name → AS (expression)
  std::vector<std::string> table_checks;
};

create_table_parts parse_create_table(std::string_view sql);

// The definitions between the outermost parentheses, split at top-level commas.
std::vector<std::string> top_level_parts(std::string_view sql);

// The text inside the parentheses that follow `keyword` at nesting depth 0 ("CHECK", "AS").
std::vector<std::string> groups_after(std::string_view part, std::string_view keyword);

// `x` and [x] become "x"; COLLATE NOCASE becomes COLLATE `nocase_collation`; COLLATE BINARY goes
// away. String literals and comments are kept as they are.
std::string pg_expression(std::string_view sqlite_expr, std::string_view nocase_collation);

// The column list and the WHERE clause of a CREATE INDEX statement.
struct index_parts {
  std::string columns;  // inside the parentheses after ON table
  std::string where;    // empty when the index is not partial
};
std::optional<index_parts> parse_create_index(std::string_view sql);

// A DEFAULT of SQLite (PRAGMA table_xinfo's dflt_value) for a column of PostgreSQL type
// `pg_sql`; nullopt when it is not a literal or CURRENT_* (reported, not translated).
std::optional<std::string> pg_default(std::string_view sqlite_default, std::string_view pg_sql);

// The unquoted name of a quoted or bare identifier.
std::string unquoted(std::string_view name);

}  // namespace monolite::move
