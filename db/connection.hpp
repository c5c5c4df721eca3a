// One SQLite connection (RAII), opened with monolite's pragmas, with two statement caches:
// one for API SQL, prepared under the sandbox (no transaction control from clients), and one for
// the server's own statements (BEGIN, SAVEPOINT, ...). Used by one actor's strand only.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "db/statement_cache.hpp"
#include "proto/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace monolite::db {

struct connection_options {
  std::string path;
  bool read_only = false;
  std::string synchronous = "NORMAL";  // NORMAL or FULL
  std::int64_t cache_size = -64000;    // SQLite's meaning: negative = KiB, positive = pages
  int busy_timeout_ms = 5000;
  bool foreign_keys = true;
  std::size_t statement_cache_capacity = 256;
};

class connection {
 public:
  static proto::result<connection> open(const connection_options& options);

  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  ~connection();

  sqlite3* handle() const { return db_; }
  bool read_only() const { return read_only_; }

  // A statement for SQL sent by a client: exactly one statement, no transaction control.
  // The statement stays owned by the cache; callers reset it when done.
  proto::result<sqlite3_stmt*> prepare_api(const std::string& sql);

  // Runs one of the server's own statements (no rows expected), from the internal cache.
  proto::result<void> exec(const std::string& sql);

  // Thread-safe: the running statement and every later one fail with SQLITE_INTERRUPT.
  // Used when the shutdown grace period is over.
  void interrupt();

  void close();

 private:
  struct sandbox;
  connection(sqlite3* db, const connection_options& options);
  proto::result<void> apply_pragmas(const connection_options& options);

  sqlite3* db_ = nullptr;
  bool read_only_ = false;
  std::unique_ptr<sandbox> sandbox_;  // heap: the authorizer keeps its address
  std::unique_ptr<statement_cache> api_statements_;
  std::unique_ptr<statement_cache> internal_statements_;
};

}  // namespace monolite::db
