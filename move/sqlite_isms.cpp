#include "move/sqlite_isms.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <map>

namespace monolite::move {
namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (c & 0x80); }

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

enum class token_kind { word, string, quoted_name, number, parameter, symbol };

struct token {
  token_kind kind;
  std::string_view text;
};

// The length of the comment, quoted text or name starting `sql` (0 when none starts there).
std::size_t skipped_length(std::string_view sql) {
  if (sql.starts_with("--")) return std::min(sql.find('\n'), sql.size());
  if (sql.starts_with("/*")) {
    const auto end = sql.find("*/", 2);
    return end == std::string_view::npos ? sql.size() : end + 2;
  }
  const char c = sql.front();
  const char close = c == '[' ? ']' : c;
  if (c != '\'' && c != '"' && c != '`' && c != '[') return 0;
  for (std::size_t i = 1; i < sql.size(); ++i) {
    if (sql[i] != close) continue;
    if (close != ']' && i + 1 < sql.size() && sql[i + 1] == close) {
      ++i;  // a doubled quote stands for itself
      continue;
    }
    return i + 1;
  }
  return sql.size();
}

std::size_t word_length(std::string_view sql, std::size_t from) {
  std::size_t length = from;
  while (length < sql.size() && word_char(sql[length]))
    ++length;
  return length;
}

// SQLite's tokens, comments and blanks dropped.
std::vector<token> tokens_of(std::string_view sql) {
  std::vector<token> out;
  while (!sql.empty()) {
    const char c = sql.front();
    std::size_t length = 1;
    token_kind kind = token_kind::symbol;
    if (std::isspace(static_cast<unsigned char>(c))) {
      sql.remove_prefix(1);
      continue;
    }
    if (const auto skipped = skipped_length(sql); skipped > 0) {
      length = skipped;
      if (c == '-' || c == '/') {
        sql.remove_prefix(length);
        continue;
      }
      kind = c == '\'' ? token_kind::string : token_kind::quoted_name;
    } else if (c == '?' || ((c == ':' || c == '@' || c == '$') && sql.size() > 1 && word_char(sql[1]))) {
      kind = token_kind::parameter;
      length = word_length(sql, 1);
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      kind = token_kind::number;
      length = word_length(sql, 0);
    } else if (word_char(c)) {
      kind = token_kind::word;
      length = word_length(sql, 0);
    }
    out.push_back({kind, sql.substr(0, length)});
    sql.remove_prefix(length);
  }
  return out;
}

}  // namespace

postgres_text to_postgres_placeholders(std::string_view sql) {
  postgres_text out;
  std::map<std::string, int, std::less<>> named;
  std::size_t copied = 0;
  for (const auto& t : tokens_of(sql)) {
    if (t.kind != token_kind::parameter) continue;
    int number = 0;
    if (t.text.size() > 1 && t.text[0] == '?') {
      number = std::stoi(std::string(t.text.substr(1)));
    } else if (t.text[0] == '?') {
      number = out.parameters + 1;
    } else if (const auto found = named.find(t.text); found != named.end()) {
      number = found->second;
    } else {
      number = out.parameters + 1;
      named.emplace(std::string(t.text), number);
    }
    out.parameters = std::max(out.parameters, number);
    const auto at = static_cast<std::size_t>(t.text.data() - sql.data());
    out.sql.append(sql.substr(copied, at - copied)).append("$").append(std::to_string(number));
    copied = at + t.text.size();
  }
  out.sql.append(sql.substr(copied));
  return out;
}

statement_kind classify_statement(std::string_view sql) {
  const auto tokens = tokens_of(sql);
  const auto first = std::find_if(tokens.begin(), tokens.end(), [](const token& t) { return t.text != ";"; });
  if (first == tokens.end()) return statement_kind::empty;
  const auto keyword = upper(first->text);
  for (const char* k : {"SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "VALUES", "REPLACE"})
    if (keyword == k) return statement_kind::query;
  for (const char* k : {"CREATE", "ALTER", "DROP"})
    if (keyword == k) return statement_kind::schema;
  for (const char* k : {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
    if (keyword == k) return statement_kind::transaction;
  return statement_kind::sqlite_only;
}

namespace {

struct known_ism {
  std::array<std::string_view, 4> pattern;  // upper-cased words and symbols in a row; "" ends it
  std::string_view found;
  std::string_view instead;
  bool opens_statement = false;  // matches only as the statement's first words
  std::string_view refused_when_run = {};
};

// What users of SQLite write that PostgreSQL spells otherwise.
constexpr known_ism known_isms[] = {
    {{"INSERT", "OR", "REPLACE"}, "INSERT OR REPLACE", "INSERT … ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col"},
    {{"REPLACE", "INTO"}, "REPLACE INTO", "INSERT … ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col", true},
    {{"INSERT", "OR", "IGNORE"}, "INSERT OR IGNORE", "INSERT … ON CONFLICT DO NOTHING"},
    {{"INSERT", "OR", "ABORT"}, "INSERT OR ABORT", "INSERT (PostgreSQL always aborts on a conflict)"},
    {{"IFNULL", "("}, "IFNULL(…)", "COALESCE(…)"},
    {{"IIF", "("}, "IIF(…)", "CASE WHEN … THEN … ELSE … END"},
    {{"DATETIME", "("}, "datetime(…)", "now() or CURRENT_TIMESTAMP; arithmetic with now() - interval '1 day'"},
    {{"DATE", "("}, "date(…)", "CURRENT_DATE, or ts::date"},
    {{"TIME", "("}, "time(…)", "CURRENT_TIME, or ts::time"},
    {{"JULIANDAY", "("}, "julianday(…)", "extract(epoch from …) / 86400 + 2440587.5"},
    {{"UNIXEPOCH", "("}, "unixepoch(…)", "extract(epoch from …)"},
    {{"STRFTIME", "("}, "strftime(…)", "to_char(ts, 'YYYY-MM-DD HH24:MI:SS') or extract(field from ts)"},
    {{"GROUP_CONCAT", "("}, "GROUP_CONCAT(…)", "string_agg(expr::text, ',')"},
    {{"INSTR", "("}, "instr(…)", "strpos(…)"},
    {{"TYPEOF", "("}, "typeof(…)", "pg_typeof(…)"},
    {{"TOTAL", "("}, "total(…)", "coalesce(sum(…), 0)"},
    {{"PRINTF", "("}, "printf(…)", "format(…)"},
    {{"HEX", "("}, "hex(…)", "encode(…, 'hex')"},
    {{"RANDOMBLOB", "("}, "randomblob(…)", "gen_random_uuid() or pgcrypto's gen_random_bytes(…)"},
    {{"JSON_EXTRACT", "("}, "json_extract(…)", "the jsonb operators -> and ->>, or jsonb_path_query"},
    {{"LAST_INSERT_ROWID", "("}, "last_insert_rowid()", "INSERT … RETURNING id"},
    {{"CHANGES", "("}, "changes()", "the row count of the command (or RETURNING)"},
    {{"LIMIT", "-", "1"}, "LIMIT -1", "LIMIT ALL, or no LIMIT", false, "LIMIT must not be negative"},
    {{"AUTOINCREMENT"}, "AUTOINCREMENT", "GENERATED BY DEFAULT AS IDENTITY"},
    {{"ROWID"}, "rowid", "the primary key (PostgreSQL rows have no rowid)"},
    {{"SQLITE_MASTER"}, "sqlite_master", "information_schema.tables / pg_catalog"},
    {{"SQLITE_SCHEMA"}, "sqlite_schema", "information_schema.tables / pg_catalog"},
    {{"BEGIN", "IMMEDIATE"}, "BEGIN IMMEDIATE", "BEGIN (then SELECT … FOR UPDATE, or ISOLATION LEVEL SERIALIZABLE)"},
    {{"BEGIN", "EXCLUSIVE"}, "BEGIN EXCLUSIVE", "BEGIN, with LOCK TABLE … IN EXCLUSIVE MODE"},
    {{"BEGIN", "DEFERRED"}, "BEGIN DEFERRED", "BEGIN"},
    {{"PRAGMA"}, "PRAGMA", "SET, ALTER TABLE or a constraint: PostgreSQL has no PRAGMA"},
    {{"ATTACH"}, "ATTACH", "one database with several schemas, or postgres_fdw"},
    {{"VACUUM", "INTO"}, "VACUUM INTO", "pg_dump"},
};

bool matches_at(const std::vector<token>& tokens, std::size_t at, const known_ism& ism) {
  for (const auto& part : ism.pattern) {
    if (part.empty()) return true;
    if (at == tokens.size()) return false;
    const auto& t = tokens[at++];
    const bool comparable = t.kind == token_kind::word || t.kind == token_kind::symbol || t.kind == token_kind::number;
    if (!comparable || upper(t.text) != part) return false;
  }
  return true;
}

}  // namespace

std::vector<sqlite_ism> find_sqlite_isms(std::string_view sql) {
  const auto tokens = tokens_of(sql);
  std::vector<sqlite_ism> out;
  for (const auto& ism : known_isms) {
    const std::size_t last = ism.opens_statement ? std::min<std::size_t>(tokens.size(), 1) : tokens.size();
    for (std::size_t at = 0; at < last; ++at) {
      if (!matches_at(tokens, at, ism)) continue;
      out.push_back({std::string(ism.found), std::string(ism.instead), std::string(ism.refused_when_run)});
      break;
    }
  }
  return out;
}

std::vector<sqlite_ism> hints_from_error(std::string_view sql, std::string_view sqlstate, std::string_view message) {
  std::vector<sqlite_ism> out;
  if (sqlstate == "42703") {
    // PostgreSQL says: column "x" does not exist. Was "x" written in double quotes?
    const auto open = message.find('"');
    const auto close = open == std::string_view::npos ? open : message.find('"', open + 1);
    if (close != std::string_view::npos) {
      const auto quoted = message.substr(open, close - open + 1);
      if (sql.find(quoted) != std::string_view::npos)
        out.push_back({"double-quoted string " + std::string(quoted),
                       "single quotes: double quotes name columns and tables in PostgreSQL", ""});
    }
  }
  const bool boolean_mixup = (sqlstate == "42883" || sqlstate == "42804") &&
                             message.find("boolean") != std::string_view::npos &&
                             message.find("integer") != std::string_view::npos;
  if (boolean_mixup) out.push_back({"0/1 as booleans", "TRUE and FALSE", ""});
  return out;
}

}  // namespace monolite::move
