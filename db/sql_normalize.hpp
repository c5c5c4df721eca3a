// The shape of a statement, for the statement log (server/statement_log.hpp): what stays the same
// when only its values change. Pure text work after SQLite's tokenizer rules, no connection.
#pragma once
#include <string>
#include <string_view>

namespace monolite::db {

// `sql` with comments dropped, each run of blanks (and comments) one space, no blanks or ';' at
// either end, and every literal value `?`: strings '…' (with '' inside), blobs X'…', numbers
// (decimal, hex 0x…, with a fraction or an exponent) but 0 and 1, which stay (flags and `LIMIT -1`
// matter to the portability check). Names stay as written, quoted ("…", […],
// `…`) or not, and so do parameters (?, ?NNN, :name, @name, $name) and keywords.
// So `SELECT * FROM t WHERE id = 5 -- x` and `select * FROM t WHERE id=7` differ (case, blanks
// around '=' are kept as one space or none), but `... id = 5` and `... id = 7` are one shape.
std::string normalize_sql(std::string_view sql);

}  // namespace monolite::db
