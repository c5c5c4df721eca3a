// Reading a SQLite statement for PostgreSQL without a server: its placeholders rewritten to
// PostgreSQL's `$n`, what kind of statement it is, and the SQLite-only constructs it uses, each
// with the PostgreSQL way to write it. Quoted text, quoted names and comments are never read as SQL.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace monolite::move {

struct postgres_text {
  std::string sql;     // with `$1 … $n` for SQLite's `?`, `?NNN`, `:name`, `@name` and `$name`
  int parameters = 0;  // the highest `$n`
};

// SQLite numbers parameters as it binds them: `?` takes the highest number so far plus one,
// `?NNN` takes NNN, and a name keeps the number it got the first time it appeared.
postgres_text to_postgres_placeholders(std::string_view sql);

enum class statement_kind {
  query,        // SELECT, INSERT, UPDATE, DELETE, WITH, VALUES: PostgreSQL can prepare these
  schema,       // CREATE, ALTER, DROP: checked by running them inside a savepoint
  transaction,  // BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE
  sqlite_only,  // PRAGMA, ATTACH, DETACH, VACUUM INTO, REINDEX: no PostgreSQL counterpart
  empty,        // blanks and comments only
};

statement_kind classify_statement(std::string_view sql);

struct sqlite_ism {
  std::string found;    // what the statement uses, e.g. "IFNULL(…)"
  std::string instead;  // the PostgreSQL way
  // PostgreSQL prepares the statement but refuses it when it runs (LIMIT -1): a failure even
  // when the prepare succeeded.
  std::string refused_when_run;
};

// Every SQLite-only construct the text uses that this checker knows, in the order of the table
// in sqlite_isms.cpp; transaction forms (BEGIN IMMEDIATE, …) included.
std::vector<sqlite_ism> find_sqlite_isms(std::string_view sql);

// Hints that only PostgreSQL's error can tell: a double-quoted word PostgreSQL took for a missing
// column (42703) was meant as a string; a boolean compared or assigned with 0/1 (42883, 42804).
std::vector<sqlite_ism> hints_from_error(std::string_view sql, std::string_view sqlstate, std::string_view message);

}  // namespace monolite::move
