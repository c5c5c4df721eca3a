#include "pg/error_map.hpp"

#include <array>
#include <optional>
#include <string_view>

namespace monolite::pg {
namespace {

struct mapping {
  unsigned status;
  std::string_view code;
};

// SQLSTATEs whose SQLite counterpart is more precise than their class's.
std::optional<mapping> exact(std::string_view sqlstate) {
  struct entry {
    std::string_view sqlstate;
    mapping to;
  };
  static constexpr std::array<entry, 15> entries{{
      {"23505", {409, "SQLITE_CONSTRAINT_UNIQUE"}},
      {"23502", {409, "SQLITE_CONSTRAINT_NOTNULL"}},
      {"23503", {409, "SQLITE_CONSTRAINT_FOREIGNKEY"}},
      {"23514", {409, "SQLITE_CONSTRAINT_CHECK"}},
      {"40002", {409, "SQLITE_CONSTRAINT"}},  // a deferred constraint failed at commit
      {"42501", {403, "SQLITE_AUTH"}},        // what the SQLite engine's authorizer says
      {"57014", {504, "SQLITE_INTERRUPT"}},   // statement_timeout, as the SQLite engine's deadline
      {"25006", {400, "READONLY"}},           // as db/statement.cpp refuses a write on /sql/query
      // Another transaction won; the same request may well pass when retried.
      {"40001", {503, "SQLITE_BUSY"}},
      {"40P01", {503, "SQLITE_BUSY"}},
      {"55P03", {503, "SQLITE_BUSY"}},
      {"55006", {503, "SQLITE_BUSY"}},  // object_in_use
      // The server shuts down, crashed or still starts: the connection is gone, a retry reconnects.
      {"57P01", {503, "NOT_READY"}},
      {"57P02", {503, "NOT_READY"}},
      {"57P03", {503, "NOT_READY"}},
  }};
  for (const auto& e : entries)
    if (e.sqlstate == sqlstate) return e.to;
  return std::nullopt;
}

// Classes where the statement (its SQL, its values or its transaction) is at fault.
bool statement_at_fault(std::string_view error_class) {
  static constexpr std::array<std::string_view, 24> classes = {"0A", "0B", "0F", "0L", "0P", "0Z", "09", "20",
                                                               "21", "24", "25", "26", "27", "2B", "2D", "2F",
                                                               "34", "38", "39", "3B", "3D", "3F", "42", "44"};
  for (auto c : classes)
    if (c == error_class) return true;
  return error_class == "55" || error_class == "P0";  // object not in prerequisite state; PL/pgSQL's RAISE
}

mapping for_class(std::string_view sqlstate) {
  const auto error_class = sqlstate.substr(0, 2);
  if (error_class == "23") return {409, "SQLITE_CONSTRAINT"};
  // Invalid input syntax, out of range, division by zero…: the value does not fit the type or the
  // operation. SQLite would coerce or store most of these; SQLITE_MISMATCH ("datatype mismatch") is
  // its one code for a value of the wrong kind, and it is a 400 like SQLITE_ERROR.
  if (error_class == "22") return {400, "SQLITE_MISMATCH"};
  // The connection failed or broke. A write in flight may or may not have committed.
  if (error_class == "08") return {503, "NOT_READY"};
  if (error_class == "53") return {503, "OVERLOADED"};  // out of memory, disk or connections
  // Too many columns, arguments, a statement too complex: SQLite's "too big", with its status.
  if (error_class == "54") return {413, "SQLITE_TOOBIG"};
  if (statement_at_fault(error_class)) return {400, "SQLITE_ERROR"};
  if (error_class == "58") return {500, "SQLITE_IOERR"};
  if (sqlstate == "XX001" || sqlstate == "XX002") return {500, "SQLITE_CORRUPT"};
  return {500, "SQLITE_INTERNAL"};  // XX000 and whatever else is the server's fault
}

std::string message_of(const error& e) {
  std::string out = e.message;
  if (!e.detail.empty()) out += " (" + e.detail + ")";
  if (!e.hint.empty()) out += " hint: " + e.hint;
  return out;
}

}  // namespace

proto::api_error api_error_from(const error& e) {
  const auto to = exact(e.sqlstate).value_or(for_class(e.sqlstate));
  proto::api_error out{to.status, std::string(to.code), message_of(e)};
  if (out.status == 503) out.retry_after = 1;
  out.sqlstate = e.sqlstate;
  return out;
}

}  // namespace monolite::pg
