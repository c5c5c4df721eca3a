// A real SQLite database in WAL mode with automatic checkpoints off, for tests that read the WAL.
#pragma once
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <iterator>
#include <string>

namespace monolite::test {

struct wal_db {
  sqlite3* db = nullptr;
  std::string path;
  explicit wal_db(std::string p) : path(std::move(p)) {
    BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    exec(
        "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0; CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, "
        "v)");
  }
  ~wal_db() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* error = nullptr;
    BOOST_REQUIRE_MESSAGE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK, (error ? error : ""));
  }
  // Inserts `rows` rows of `bytes` random bytes each, one transaction.
  void insert(int rows, int bytes = 100) {
    exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(rows) +
         ") INSERT INTO t(v) SELECT randomblob(" + std::to_string(bytes) + ") FROM n");
  }
  std::string wal_bytes() const {
    std::ifstream in(path + "-wal", std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
};

}  // namespace monolite::test
