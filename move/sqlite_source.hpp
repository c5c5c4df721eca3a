// The SQLite side of a move: the file opened read-only with ONE read transaction held from open()
// to the destructor, so introspection, the mismatch scan, the copy and the verification all see
// the same snapshot while a server keeps writing the file in WAL mode.
#pragma once
#include <sqlite3.h>

#include <functional>
#include <string>
#include <vector>

#include "move/types.hpp"

namespace monolite::move {

class sqlite_source {
 public:
  // nullopt message on success; the error text otherwise.
  static std::optional<std::string> open(const std::string& path, sqlite_source& out);

  sqlite_source() = default;
  sqlite_source(const sqlite_source&) = delete;
  sqlite_source& operator=(const sqlite_source&) = delete;
  ~sqlite_source();

  // Runs `sql` and calls `row` with each row's values; false from `row` stops early. Returns the
  // SQLite error message, empty on success.
  std::string each_row(const std::string& sql, const std::function<bool(const std::vector<value>&)>& row);
  // The rows of a small query as text (NULL as empty), for introspection.
  std::vector<std::vector<std::string>> text_rows(const std::string& sql);
  sqlite3* handle() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// "name" with inner quotes doubled, for SQLite statements.
std::string sqlite_ident(const std::string& name);

}  // namespace monolite::move
