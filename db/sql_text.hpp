// Reading SQL text without a connection: where statements start and end (sqlite3_complete), and
// the few statements the Hrana streams run themselves instead of handing them to SQLite under
// the sandbox: transaction control and `PRAGMA foreign_keys = on|off`. Case, blanks, comments and
// a trailing ';' do not matter.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace monolite::db {

// The text after leading blanks, ';' and comments.
std::string_view skip_blanks_and_comments(std::string_view sql);

// The statements of `sql`, each with its ';' (a last one may lack it). Blank ones are dropped.
std::vector<std::string> split_statements(std::string_view sql);

enum class transaction_control {
  none,             // not a transaction statement (or one we do not map, such as SAVEPOINT)
  begin_deferred,   // BEGIN, BEGIN DEFERRED [TRANSACTION]
  begin_immediate,  // BEGIN IMMEDIATE [TRANSACTION]
  begin_exclusive,  // BEGIN EXCLUSIVE [TRANSACTION]
  begin_readonly,   // BEGIN [TRANSACTION] READONLY (libSQL's read transaction)
  commit,           // COMMIT, END [TRANSACTION]
  rollback,         // ROLLBACK [TRANSACTION] (not ROLLBACK TO)
};

transaction_control classify_transaction(std::string_view sql);
bool is_begin(transaction_control tc);

// The value of `PRAGMA [main.]foreign_keys = X` or `PRAGMA foreign_keys(X)`; empty for anything else.
std::optional<bool> foreign_keys_setting(std::string_view sql);

// The first keyword, upper-cased ("" when the text does not start with a word).
std::string first_keyword(std::string_view sql);

}  // namespace monolite::db
