// SQLite's parameter forms rewritten as PostgreSQL's $1..$n, and a statement's values bound to
// them with the errors SQLite gives, so API clients see one behaviour whichever engine serves them.
// Pure text work: no libpq.
//
// Parameters are numbered as SQLite numbers them: `?` takes one more than the largest index so far,
// `?NNN` is index NNN, and `:name`, `@name`, `$name` take a new index unless the same name (with the
// same prefix) came before. One deliberate difference: `$NNN` (digits only) is index NNN, as `?NNN`
// is, so SQL written for PostgreSQL (`WHERE id = $1`) works unchanged; SQLite would take it for a
// named parameter "$1" (it can still be bound by that name). Names are made of letters, digits,
// `_` and non-ASCII bytes; `:` followed by a digit is left alone so array slices (`a[1:2]`) work.
//
// Nothing is rewritten inside '…', E'…' (backslash escapes), "…", $$…$$ or $tag$…$tag$, -- and
// nested /* */ comments. `::` is a cast and `:=` an assignment, not parameters; an `@` right after
// `<` or `@` belongs to an operator (`<@`, `@@`). `?` is always a parameter, so PostgreSQL's jsonb
// operators `?`, `?|` and `?&` must be written as functions (jsonb_exists, jsonb_exists_any, …).
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.hpp"
#include "proto/sql_request.hpp"

namespace monolite::pg {

// SQLite's default SQLITE_MAX_VARIABLE_NUMBER, the limit when the caller gives none.
inline constexpr int default_max_params = 32766;

struct translated_sql {
  std::string sql;  // the statement with $1..$n in place of its parameters
  // By SQLite's index - 1, the parameter's name as SQLite reports it: ":id", "@id", "$id", "?3",
  // "$3"; "" for a plain `?` and for an index no parameter uses (`?3` alone also makes 1 and 2).
  std::vector<std::string> names;
  // slots[k - 1] is SQLite's index of the parameter $k stands for. $1..$n are the indexes the text
  // uses, in increasing order, so without gaps $k is index k.
  std::vector<int> slots;
  // Statements in the text, by its ';' outside strings, quoted identifiers, dollar quotes and
  // comments; blank ones (only blanks and comments) not counted.
  std::size_t statements = 0;
};

// Fails like SQLite's prepare (400 SQLITE_ERROR) when a parameter's number is out of 1..max_params
// or the statement has more than max_params parameters; max_params <= 0 means default_max_params.
proto::result<translated_sql> translate_placeholders(std::string_view sql, int max_params);

// The values of $1..$n in order, pointing into `statement`, which must outlive them. Fails with
// db/statement.cpp's BAD_PARAMS errors: a wrong count of positional values, an unknown name, or a
// parameter left without a value. Named values are matched as SQLite matches them: ":id" only
// ":id"; a bare "id" the first of ":id", "@id", "$id" the statement has.
proto::result<std::vector<const proto::value*>> bind_placeholders(const translated_sql& translated,
                                                                  const proto::statement& statement);

}  // namespace monolite::pg
