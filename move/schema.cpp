#include "move/schema.hpp"

#include <algorithm>
#include <cctype>

#include "move/create_sql.hpp"

namespace monolite::move {
namespace {

std::string upper(std::string text) {
  for (char& c : text)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

bool has_word(const std::string& sql, const std::string& word) { return upper(sql).find(word) != std::string::npos; }

std::vector<column_def> read_columns(sqlite_source& db, const std::string& table) {
  std::vector<column_def> out;
  // cid, name, type, notnull, dflt_value, pk, hidden
  for (auto& row : db.text_rows("PRAGMA table_xinfo(" + sqlite_ident(table) + ")")) {
    column_def c;
    c.name = row[1];
    c.declared = row[2];
    c.type = translate_type(c.declared);
    c.not_null = row[3] == "1";
    if (!row[4].empty()) c.default_sql = row[4];
    c.pk = std::stoi(row[5]);
    c.hidden = std::stoi(row[6]);
    if (c.hidden == 1) continue;  // hidden columns of virtual tables
    const char* collation = nullptr;
    if (c.hidden == 0 && sqlite3_table_column_metadata(db.handle(), nullptr, table.c_str(), c.name.c_str(), nullptr,
                                                       &collation, nullptr, nullptr, nullptr) == SQLITE_OK) {
      c.nocase = collation && upper(collation) == "NOCASE";
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<index_def> read_indexes(sqlite_source& db, const std::string& table) {
  std::vector<index_def> out;
  // seq, name, unique, origin, partial
  for (auto& row : db.text_rows("PRAGMA index_list(" + sqlite_ident(table) + ")")) {
    index_def index{row[1], row[2] == "1", row[3], {}, {}};
    for (auto& key : db.text_rows("PRAGMA index_xinfo(" + sqlite_ident(index.name) + ")")) {
      if (key[5] == "1") index.columns.push_back(key[2]);  // key columns only, not the rowid
    }
    auto sql = db.text_rows("SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = '" + index.name + "'");
    if (!sql.empty()) index.sql = sql[0][0];
    out.push_back(std::move(index));
  }
  std::reverse(out.begin(), out.end());  // in creation order
  return out;
}

std::vector<foreign_key_def> read_foreign_keys(sqlite_source& db, const std::string& table) {
  std::vector<foreign_key_def> out;
  std::string last_id;
  // id, seq, table, from, to, on_update, on_delete, match
  for (auto& row : db.text_rows("PRAGMA foreign_key_list(" + sqlite_ident(table) + ")")) {
    if (row[0] != last_id) out.push_back({row[2], {}, {}, row[5], row[6]});
    last_id = row[0];
    out.back().from.push_back(row[3]);
    if (!row[4].empty()) out.back().to.push_back(row[4]);
  }
  return out;
}

table_def read_table(sqlite_source& db, const std::string& name, const std::string& sql) {
  table_def t{name, sql, read_columns(db, name), {}, {}, read_indexes(db, name), read_foreign_keys(db, name)};
  t.without_rowid = has_word(sql, "WITHOUT ROWID");
  t.autoincrement = has_word(sql, "AUTOINCREMENT");
  std::vector<std::pair<int, std::string>> keys;
  for (auto& c : t.columns) {
    if (c.pk) keys.emplace_back(c.pk, c.name);
  }
  std::sort(keys.begin(), keys.end());
  for (auto& [position, column] : keys)
    t.primary_key.push_back(column);
  if (!t.without_rowid && keys.size() == 1) {
    for (auto& c : t.columns) {
      if (c.pk && upper(c.declared) == "INTEGER") c.identity = true;  // exactly INTEGER: the rowid alias
    }
  }
  const auto parts = parse_create_table(sql);
  t.table_checks = parts.table_checks;
  for (auto& c : t.columns) {
    if (auto found = parts.column_checks.find(c.name); found != parts.column_checks.end()) c.checks = found->second;
    if (auto found = parts.generated.find(c.name); found != parts.generated.end()) c.generated = found->second;
  }
  if (t.autoincrement) {
    auto seq = db.text_rows("SELECT seq FROM sqlite_sequence WHERE name = '" + name + "'");
    if (!seq.empty() && !seq[0][0].empty()) t.sequence = std::stoll(seq[0][0]);
  }
  return t;
}

}  // namespace

schema read_schema(sqlite_source& db) {
  schema out;
  auto objects = db.text_rows(
      "SELECT type, name, sql FROM sqlite_schema WHERE type IN ('table', 'view', 'trigger') "
      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid");
  for (auto& row : objects) {
    if (row[0] == "view") {
      out.views.push_back({"view", row[1], row[2]});
    } else if (row[0] == "trigger") {
      out.triggers.push_back({"trigger", row[1], row[2]});
    } else if (has_word(row[2], "CREATE VIRTUAL TABLE")) {
      out.skipped.push_back("virtual table " + row[1] + ": not moved (its module exists only in SQLite)");
    } else {
      out.tables.push_back(read_table(db, row[1], row[2]));
    }
  }
  return out;
}

std::string sqlite_select_list(const table_def& table, bool copied_only) {
  std::string out;
  for (const auto& c : table.columns) {
    if (copied_only && c.computed_in_pg) continue;
    if (!out.empty()) out += ", ";
    out += sqlite_ident(c.name);
  }
  return out;
}

}  // namespace monolite::move
