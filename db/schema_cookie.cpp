#include "db/schema_cookie.hpp"

#include <sqlite3.h>

#include <string>

namespace monolite::db {

namespace {
// A plain connection of our own: the API connections' authorizer refuses this PRAGMA.
struct own_connection {
  sqlite3* db = nullptr;
  ~own_connection() { sqlite3_close(db); }
};
}  // namespace

proto::result<bool> raise_schema_cookie(const connection_options& options, std::uint32_t floor) {
  own_connection own;
  if (sqlite3_open_v2(options.path.c_str(), &own.db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    return proto::internal_error("cannot open " + options.path + ": " + (own.db ? sqlite3_errmsg(own.db) : "no memory"));
  sqlite3_busy_timeout(own.db, options.busy_timeout_ms);
  // Closing must leave the WAL as it is: a replica resumes from the frames it holds there.
  sqlite3_db_config(own.db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  auto* handle = own.db;
  sqlite3_stmt* read = nullptr;
  if (sqlite3_prepare_v2(handle, "PRAGMA schema_version", -1, &read, nullptr) != SQLITE_OK)
    return proto::internal_error(std::string("cannot read the schema cookie: ") + sqlite3_errmsg(handle));
  const bool stepped = sqlite3_step(read) == SQLITE_ROW;
  const auto cookie = static_cast<std::uint32_t>(stepped ? sqlite3_column_int64(read, 0) : 0);
  sqlite3_finalize(read);
  if (!stepped) return proto::internal_error("cannot read the schema cookie");
  if (cookie > floor) return proto::result<bool>(boost::system::in_place_value, false);
  // Defensive mode refuses writing the cookie; off for this one statement of our own.
  sqlite3_db_config(handle, SQLITE_DBCONFIG_DEFENSIVE, 0, nullptr);
  const std::string sql = "PRAGMA schema_version = " + std::to_string(std::uint64_t(floor) + 1);
  char* error = nullptr;
  const int rc = sqlite3_exec(handle, sql.c_str(), nullptr, nullptr, &error);
  sqlite3_db_config(handle, SQLITE_DBCONFIG_DEFENSIVE, 1, nullptr);
  std::string why = error ? error : "";
  sqlite3_free(error);
  if (rc != SQLITE_OK) return proto::internal_error("cannot raise the schema cookie: " + why);
  return proto::result<bool>(boost::system::in_place_value, true);
}

}  // namespace monolite::db
