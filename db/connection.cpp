#include "db/connection.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cctype>

#include "db/error.hpp"

namespace monolite::db {

namespace {

// Server-side statements run with the sandbox off.
class sandbox_pause {
 public:
  explicit sandbox_pause(bool& active) : active_(active), was_(active) { active_ = false; }
  ~sandbox_pause() { active_ = was_; }
  sandbox_pause(const sandbox_pause&) = delete;
  sandbox_pause& operator=(const sandbox_pause&) = delete;

 private:
  bool& active_;
  bool was_;
};

bool only_blank(const char* tail) {
  for (; *tail; ++tail)
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') return false;
  return true;
}

proto::api_error refused(std::string why) { return {403, "SQLITE_AUTH", std::move(why)}; }

}  // namespace

connection::connection(sqlite3* db, const connection_options& options)
    : db_(db),
      read_only_(options.read_only),
      sandbox_(std::make_unique<sandbox>()),
      options_(std::make_unique<connection_options>(options)),
      api_statements_(std::make_unique<statement_cache>(options.statement_cache_capacity)),
      internal_statements_(std::make_unique<statement_cache>(16)) {
  sqlite3_set_authorizer(db_, &sandbox::authorize, sandbox_.get());
  sqlite3_progress_handler(db_, 1000, &sandbox::progress, sandbox_.get());
  if (options.max_sql_length > 0) sqlite3_limit(db_, SQLITE_LIMIT_SQL_LENGTH, options.max_sql_length);
  if (options.max_params > 0) sqlite3_limit(db_, SQLITE_LIMIT_VARIABLE_NUMBER, options.max_params);
  sqlite3_limit(db_, SQLITE_LIMIT_ATTACHED, 0);
  // Bounds the memory one value may take (randomblob(1e9) would otherwise allocate a gigabyte even
  // when only its length is returned).
  if (options.max_value_bytes > 0)
    sqlite3_limit(db_, SQLITE_LIMIT_LENGTH,
                  static_cast<int>(std::min<std::size_t>(options.max_value_bytes, 1'000'000'000)));
  // Defensive mode: no direct schema edits or other ways to corrupt the file from SQL.
  sqlite3_db_config(db_, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  sqlite3_db_config(db_, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, nullptr);
}

void connection::arm_deadline() {
  sandbox_->timed_out = false;
  if (options_->statement_timeout.count() > 0) sandbox_->deadline = sandbox::clock::now() + options_->statement_timeout;
}

void connection::clear_deadline() { sandbox_->deadline = sandbox::clock::time_point::max(); }

bool connection::timed_out() const { return sandbox_->timed_out; }

void connection::interrupt() { sandbox_->interrupted.store(true, std::memory_order_relaxed); }

connection::connection(connection&& other) noexcept { *this = std::move(other); }

connection& connection::operator=(connection&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    read_only_ = other.read_only_;
    sandbox_ = std::move(other.sandbox_);
    options_ = std::move(other.options_);
    api_statements_ = std::move(other.api_statements_);
    internal_statements_ = std::move(other.internal_statements_);
  }
  return *this;
}

connection::~connection() { close(); }

void connection::close() {
  if (!db_) return;
  api_statements_->clear();
  internal_statements_->clear();
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

proto::result<connection> connection::open(const connection_options& options) {
  const int flags =
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    auto error = db ? sqlite_error(db) : sqlite_error(rc, sqlite3_errstr(rc));
    error.message = "cannot open " + options.path + ": " + error.message;
    sqlite3_close_v2(db);
    return error;
  }
  sqlite3_extended_result_codes(db, 1);
  connection conn(db, options);
  if (auto ok = conn.apply_pragmas(options); !ok) return ok.error();
  return conn;
}

proto::result<void> connection::apply_pragmas(const connection_options& options) {
  sandbox_pause pause(sandbox_->active);
  sqlite3_busy_timeout(db_, options.busy_timeout_ms);
  std::string sql = "PRAGMA cache_size=" + std::to_string(options.cache_size) +
                    "; PRAGMA foreign_keys=" + (options.foreign_keys ? "ON" : "OFF") + "; PRAGMA wal_autocheckpoint=0;";
  if (options.read_only) {
    sql += " PRAGMA query_only=ON;";
  } else {
    // The writer owns checkpoints, so the WAL never resets behind its back.
    sql += " PRAGMA journal_mode=WAL; PRAGMA synchronous=" + options.synchronous + ";";
  }
  char* message = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    auto error = sqlite_error(db_);
    sqlite3_free(message);
    return error;
  }
  return {};
}

proto::result<sqlite3_stmt*> connection::prepare_api(const std::string& sql) {
  if (auto* cached = api_statements_->find(sql)) return cached;
  if (auto why = sandbox::refuse_by_keyword(sql); !why.empty()) return refused(std::move(why));
  sandbox_->denial.clear();
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, &tail) !=
      SQLITE_OK)
    return sandbox_->denial.empty() ? sqlite_error(db_) : refused(sandbox_->denial);
  if (!stmt) return proto::bad_request("empty SQL statement");
  if (!only_blank(tail)) {
    sqlite3_stmt* next = nullptr;
    sqlite3_prepare_v2(db_, tail, -1, &next, nullptr);
    const bool several = next != nullptr || sqlite3_errcode(db_) != SQLITE_OK;
    sqlite3_finalize(next);
    if (several) {
      sqlite3_finalize(stmt);
      return proto::bad_request("\"sql\" holds more than one statement; send each in \"statements\"");
    }
  }
  api_statements_->insert(sql, stmt);
  return stmt;
}

proto::result<void> connection::exec(const std::string& sql) {
  sandbox_pause pause(sandbox_->active);
  sqlite3_stmt* stmt = internal_statements_->find(sql);
  if (!stmt) {
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
      return sqlite_error(db_);
    internal_statements_->insert(sql, stmt);
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {}
  if (rc != SQLITE_DONE) {
    auto error = sqlite_error(db_);
    sqlite3_reset(stmt);
    return error;
  }
  sqlite3_reset(stmt);
  return {};
}

}  // namespace monolite::db
