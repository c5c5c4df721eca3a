#include "move/sqlite_source.hpp"

#include "move/values.hpp"

namespace monolite::move {

std::string sqlite_ident(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::optional<std::string> sqlite_source::open(const std::string& path, sqlite_source& out) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  out.db_ = db;
  if (rc != SQLITE_OK) return std::string("cannot open ") + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
  sqlite3_busy_timeout(db, 5000);
  // BEGIN alone takes no snapshot; the first read does, and every later read sees the same one.
  char* message = nullptr;
  if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_schema;", nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "cannot start a read transaction";
    sqlite3_free(message);
    return path + ": " + text;
  }
  return std::nullopt;
}

sqlite_source::~sqlite_source() {
  if (db_) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close_v2(db_);
  }
}

std::string sqlite_source::each_row(const std::string& sql, const std::function<bool(const std::vector<value>&)>& row) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return sqlite3_errmsg(db_);
  const int columns = sqlite3_column_count(stmt);
  std::vector<value> values(columns);
  int rc = SQLITE_ROW;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    for (int c = 0; c < columns; ++c) {
      auto& v = values[c];
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_INTEGER: v = value::of(sqlite3_column_int64(stmt, c)); break;
        case SQLITE_FLOAT: v = value::of_real(sqlite3_column_double(stmt, c)); break;
        case SQLITE_TEXT: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          v = value::text(std::string_view(text, sqlite3_column_bytes(stmt, c)));
          break;
        }
        case SQLITE_BLOB: {
          const auto* blob = static_cast<const char*>(sqlite3_column_blob(stmt, c));
          v = value::blob(std::string_view(blob ? blob : "", sqlite3_column_bytes(stmt, c)));
          break;
        }
        default: v = value::null();
      }
    }
    if (!row(values)) break;
  }
  std::string error = rc == SQLITE_DONE || rc == SQLITE_ROW ? "" : sqlite3_errmsg(db_);
  sqlite3_finalize(stmt);
  return error;
}

std::vector<std::vector<std::string>> sqlite_source::text_rows(const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  each_row(sql, [&](const std::vector<value>& values) {
    auto& row = out.emplace_back();
    for (const auto& v : values)
      row.push_back(v.type == value::storage::null ? "" : as_text(v));
    return true;
  });
  return out;
}

}  // namespace monolite::move
