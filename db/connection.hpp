// One SQLite connection (RAII), opened with monolite's pragmas and limits, with two statement
// caches: one for client SQL, prepared under the sandbox (db/sandbox.hpp), and one for the
// server's own statements (BEGIN, SAVEPOINT, ...). Used by one actor's strand only, except
// interrupt(), which any thread may call.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "db/sandbox.hpp"
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
  // Limits on client SQL (0 = SQLite's own limit / none).
  std::chrono::milliseconds statement_timeout{5000};
  int max_sql_length = 100000;
  int max_params = 1000;
  std::size_t max_result_rows = 100000;
  std::size_t max_result_bytes = 32 * 1024 * 1024;
  // Largest string or blob SQLite may build (SQLITE_LIMIT_LENGTH); 0 = SQLite's own 1 GB.
  std::size_t max_value_bytes = 32 * 1024 * 1024;
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

  // The deadline of one client statement: armed before its first step, cleared after its last.
  void arm_deadline();
  void clear_deadline();
  bool timed_out() const;
  const connection_options& options() const { return *options_; }

  // Runs one of the server's own statements (no rows expected), from the internal cache.
  proto::result<void> exec(const std::string& sql);

  // Thread-safe: the running statement and every later one fail with SQLITE_INTERRUPT.
  // Used when the shutdown grace period is over.
  void interrupt();

  void close();

 private:
  connection(sqlite3* db, const connection_options& options);
  proto::result<void> apply_pragmas(const connection_options& options);

  sqlite3* db_ = nullptr;
  bool read_only_ = false;
  std::unique_ptr<sandbox> sandbox_;  // heap: the authorizer keeps its address
  std::unique_ptr<connection_options> options_;
  std::unique_ptr<statement_cache> api_statements_;
  std::unique_ptr<statement_cache> internal_statements_;
};

}  // namespace monolite::db
