#include "db/sql_text.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <cctype>

namespace monolite::db {
namespace {

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::toupper(c); });
  return out;
}

std::string_view skip(std::string_view sql, bool semicolons) {
  for (;;) {
    while (!sql.empty() &&
           (std::isspace(static_cast<unsigned char>(sql.front())) || (semicolons && sql.front() == ';')))
      sql.remove_prefix(1);
    if (sql.substr(0, 2) == "--") {
      const auto end = sql.find('\n');
      sql.remove_prefix(end == std::string_view::npos ? sql.size() : end);
    } else if (sql.substr(0, 2) == "/*") {
      const auto end = sql.find("*/", 2);
      sql.remove_prefix(end == std::string_view::npos ? sql.size() : end + 2);
    } else {
      return sql;
    }
  }
}

// Upper-cased words, quoted names and single punctuation characters; trailing ';' dropped.
// Empty when the text has more than `most` tokens, an unclosed quote or a ';' before its end.
std::optional<std::vector<std::string>> tokenize(std::string_view sql, std::size_t most) {
  std::vector<std::string> out;
  for (sql = skip(sql, false); !sql.empty(); sql = skip(sql, false)) {
    if (out.size() == most) return std::nullopt;
    const char c = sql.front();
    std::size_t length = 1;
    if (word_char(c)) {
      while (length < sql.size() && word_char(sql[length]))
        ++length;
      out.push_back(upper(sql.substr(0, length)));
    } else if (c == '\'' || c == '"' || c == '`') {
      const auto close = sql.find(c, 1);
      if (close == std::string_view::npos) return std::nullopt;
      length = close + 1;
      out.push_back(upper(sql.substr(1, close - 1)));
    } else {
      out.emplace_back(1, c);
    }
    sql.remove_prefix(length);
  }
  while (!out.empty() && out.back() == ";")
    out.pop_back();
  if (std::find(out.begin(), out.end(), ";") != out.end()) return std::nullopt;
  return out;
}

transaction_control classify_begin(const std::vector<std::string>& w) {
  std::size_t i = 1;
  auto kind = transaction_control::begin_deferred;
  bool mode_given = false;
  if (i < w.size() && (w[i] == "DEFERRED" || w[i] == "IMMEDIATE" || w[i] == "EXCLUSIVE")) {
    kind = w[i] == "DEFERRED"    ? transaction_control::begin_deferred
           : w[i] == "IMMEDIATE" ? transaction_control::begin_immediate
                                 : transaction_control::begin_exclusive;
    mode_given = true;
    ++i;
  }
  if (i < w.size() && w[i] == "TRANSACTION") ++i;
  if (!mode_given && i < w.size() && w[i] == "READONLY") {
    kind = transaction_control::begin_readonly;
    ++i;
  }
  return i == w.size() ? kind : transaction_control::none;
}

}  // namespace

std::string_view skip_blanks_and_comments(std::string_view sql) { return skip(sql, true); }

std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> out;
  std::size_t start = 0;
  std::string candidate;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != ';') continue;
    candidate.assign(sql.substr(start, i + 1 - start));
    if (!sqlite3_complete(candidate.c_str())) continue;  // the ';' is inside a string, comment or trigger
    if (!skip_blanks_and_comments(candidate).empty()) out.push_back(candidate);
    start = i + 1;
  }
  const auto rest = sql.substr(start);
  if (!skip_blanks_and_comments(rest).empty()) out.emplace_back(rest);
  return out;
}

transaction_control classify_transaction(std::string_view sql) {
  const auto words = tokenize(sql, 4);
  if (!words || words->empty()) return transaction_control::none;
  const auto& w = *words;
  if (w[0] == "BEGIN") return classify_begin(w);
  const bool only_transaction = w.size() == 1 || (w.size() == 2 && w[1] == "TRANSACTION");
  if ((w[0] == "COMMIT" || w[0] == "END") && only_transaction) return transaction_control::commit;
  if (w[0] == "ROLLBACK" && only_transaction) return transaction_control::rollback;
  return transaction_control::none;
}

bool is_begin(transaction_control tc) {
  return tc == transaction_control::begin_deferred || tc == transaction_control::begin_immediate ||
         tc == transaction_control::begin_exclusive || tc == transaction_control::begin_readonly;
}

std::optional<bool> foreign_keys_setting(std::string_view sql) {
  const auto words = tokenize(sql, 8);
  if (!words || words->size() < 4 || (*words)[0] != "PRAGMA") return std::nullopt;
  std::vector<std::string> w(words->begin() + 1, words->end());
  if (w.size() >= 3 && w[0] == "MAIN" && w[1] == ".") w.erase(w.begin(), w.begin() + 2);
  const bool assigned = w.size() == 3 && w[1] == "=";
  const bool called = w.size() == 4 && w[1] == "(" && w[3] == ")";
  if (w.empty() || w[0] != "FOREIGN_KEYS" || (!assigned && !called)) return std::nullopt;
  const auto& v = w[2];
  if (v == "ON" || v == "TRUE" || v == "YES" || v == "1") return true;
  if (v == "OFF" || v == "FALSE" || v == "NO" || v == "0") return false;
  return std::nullopt;
}

std::string first_keyword(std::string_view sql) {
  sql = skip_blanks_and_comments(sql);
  std::size_t length = 0;
  while (length < sql.size() && word_char(sql[length]))
    ++length;
  return upper(sql.substr(0, length));
}

}  // namespace monolite::db
