#include "move/create_sql.hpp"

#include <cctype>

namespace monolite::move {
namespace {

bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c & 0x80; }

bool same_word(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != std::toupper(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

// Index just past the quoted token (', ", `, [) or comment that starts at `i`; `i` when none does.
std::size_t skip_quoted(std::string_view s, std::size_t i) {
  const char c = s[i];
  if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
    const auto end = s.find('\n', i);
    return end == std::string_view::npos ? s.size() : end;
  }
  if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
    const auto end = s.find("*/", i + 2);
    return end == std::string_view::npos ? s.size() : end + 2;
  }
  if (c != '\'' && c != '"' && c != '`' && c != '[') return i;
  const char close = c == '[' ? ']' : c;
  for (std::size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] != close) continue;
    if (close != ']' && j + 1 < s.size() && s[j + 1] == close) {
      ++j;
      continue;
    }
    return j + 1;
  }
  return s.size();
}

// The balanced group starting at s[open] == '('; returns the index after ')' and its inside.
std::size_t group_end(std::string_view s, std::size_t open) {
  int depth = 0;
  for (std::size_t i = open; i < s.size();) {
    if (auto after = skip_quoted(s, i); after != i) {
      i = after;
      continue;
    }
    if (s[i] == '(') ++depth;
    if (s[i] == ')' && --depth == 0) return i + 1;
    ++i;
  }
  return s.size();
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return std::string(s);
}

// The first token of a column definition: its name.
std::string first_name(std::string_view part) {
  const std::string t = trimmed(part);
  const std::size_t end = skip_quoted(t, 0);
  if (end != 0) return unquoted(std::string_view(t).substr(0, end));
  std::size_t i = 0;
  while (i < t.size() && ident_char(t[i]))
    ++i;
  return t.substr(0, i);
}

bool starts_constraint(std::string_view part) {
  const std::string word = first_name(part);
  for (const char* k : {"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"}) {
    if (same_word(word, k) && trimmed(part).front() != '"') return true;
  }
  return false;
}

}  // namespace

std::string unquoted(std::string_view name) {
  if (name.size() >= 2 && (name[0] == '"' || name[0] == '`' || name[0] == '[' || name[0] == '\'')) {
    const char close = name[0] == '[' ? ']' : name[0];
    std::string out;
    for (std::size_t i = 1; i + 1 < name.size(); ++i) {
      out += name[i];
      if (name[i] == close && close != ']') ++i;
    }
    return out;
  }
  return std::string(name);
}

std::vector<std::string> top_level_parts(std::string_view sql) {
  std::vector<std::string> parts;
  std::size_t open = 0;
  while (open < sql.size() && sql[open] != '(')
    open = std::max(skip_quoted(sql, open), open + 1);
  if (open >= sql.size()) return parts;
  const std::size_t close = group_end(sql, open) - 1;
  int depth = 0;
  std::size_t start = open + 1;
  for (std::size_t i = open + 1; i < close;) {
    if (auto after = skip_quoted(sql, i); after != i) {
      i = after;
      continue;
    }
    if (sql[i] == '(') ++depth;
    if (sql[i] == ')') --depth;
    if (sql[i] == ',' && depth == 0) {
      parts.push_back(trimmed(sql.substr(start, i - start)));
      start = i + 1;
    }
    ++i;
  }
  parts.push_back(trimmed(sql.substr(start, close - start)));
  return parts;
}

std::vector<std::string> groups_after(std::string_view part, std::string_view keyword) {
  std::vector<std::string> out;
  bool after_keyword = false;
  for (std::size_t i = 0; i < part.size();) {
    if (auto after = skip_quoted(part, i); after != i) {
      after_keyword = false;
      i = after;
    } else if (part[i] == '(') {
      const std::size_t end = group_end(part, i);
      if (after_keyword) out.push_back(trimmed(part.substr(i + 1, end - i - 2)));
      after_keyword = false;
      i = end;
    } else if (ident_char(part[i])) {
      std::size_t j = i;
      while (j < part.size() && ident_char(part[j]))
        ++j;
      after_keyword = same_word(part.substr(i, j - i), keyword);
      i = j;
    } else {
      if (!std::isspace(static_cast<unsigned char>(part[i]))) after_keyword = false;
      ++i;
    }
  }
  return out;
}

create_table_parts parse_create_table(std::string_view sql) {
  create_table_parts out;
  for (const auto& part : top_level_parts(sql)) {
    if (starts_constraint(part)) {
      for (auto& check : groups_after(part, "CHECK"))
        out.table_checks.push_back(check);
      continue;
    }
    const std::string name = first_name(part);
    for (auto& check : groups_after(part, "CHECK"))
      out.column_checks[name].push_back(check);
    if (auto generated = groups_after(part, "AS"); !generated.empty()) out.generated[name] = generated.front();
  }
  return out;
}

std::string pg_expression(std::string_view e, std::string_view nocase_collation) {
  std::string out;
  std::string last_word;
  for (std::size_t i = 0; i < e.size();) {
    if (auto after = skip_quoted(e, i); after != i) {
      const char c = e[i];
      out +=
          c == '`' || c == '[' ? "\"" + unquoted(e.substr(i, after - i)) + "\"" : std::string(e.substr(i, after - i));
      i = after;
      last_word.clear();
    } else if (ident_char(e[i])) {
      std::size_t j = i;
      while (j < e.size() && ident_char(e[j]))
        ++j;
      const std::string_view word = e.substr(i, j - i);
      if (same_word(last_word, "COLLATE") && same_word(word, "NOCASE")) {
        out += nocase_collation;
      } else if (same_word(last_word, "COLLATE") && same_word(word, "BINARY")) {
        out += "\"C\"";
      } else {
        out += word;
      }
      last_word = std::string(word);
      i = j;
    } else {
      out += e[i];
      if (!std::isspace(static_cast<unsigned char>(e[i]))) last_word.clear();
      ++i;
    }
  }
  return out;
}

std::optional<index_parts> parse_create_index(std::string_view sql) {
  std::size_t i = 0;
  bool seen_on = false;
  while (i < sql.size()) {
    if (auto after = skip_quoted(sql, i); after != i) {
      i = after;
    } else if (ident_char(sql[i])) {
      std::size_t j = i;
      while (j < sql.size() && ident_char(sql[j]))
        ++j;
      seen_on = seen_on || same_word(sql.substr(i, j - i), "ON");
      i = j;
    } else if (sql[i] == '(' && seen_on) {
      const std::size_t end = group_end(sql, i);
      index_parts parts{trimmed(sql.substr(i + 1, end - i - 2)), {}};
      const std::string rest = trimmed(sql.substr(end));
      if (rest.size() > 5 && same_word(std::string_view(rest).substr(0, 5), "WHERE"))
        parts.where = trimmed(rest.substr(5));
      return parts;
    } else {
      ++i;
    }
  }
  return std::nullopt;
}

std::optional<std::string> pg_default(std::string_view d, std::string_view pg_sql) {
  const std::string text = trimmed(d);
  if (text.empty()) return std::nullopt;
  const bool boolean = pg_sql == "boolean";
  if (same_word(text, "NULL")) return "NULL";
  if (same_word(text, "TRUE") || same_word(text, "FALSE")) {
    return boolean ? text : same_word(text, "TRUE") ? "1" : "0";
  }
  for (const char* word : {"CURRENT_TIMESTAMP", "CURRENT_DATE", "CURRENT_TIME"}) {
    if (same_word(text, word)) return std::string(word);
  }
  if (text.front() == '\'' && skip_quoted(text, 0) == text.size()) return text;
  if ((text[0] == 'x' || text[0] == 'X') && text.size() > 2 && text[1] == '\'' && text.back() == '\'') {
    return "'\\x" + text.substr(2, text.size() - 3) + "'::bytea";
  }
  std::size_t i = text[0] == '-' || text[0] == '+';
  bool digits = i < text.size();
  for (std::size_t j = i; j < text.size(); ++j) {
    const char c = text[j];
    digits = digits &&
             (std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+');
  }
  if (!digits) return std::nullopt;
  if (boolean) {
    if (text == "0") return "false";
    if (text == "1") return "true";
    return std::nullopt;
  }
  return text;
}

}  // namespace monolite::move
