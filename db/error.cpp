#include "db/error.hpp"

#include <sqlite3.h>

#include <unordered_map>

namespace monolite::db {
namespace {

// SQLite's own names for its result codes, so API clients can match on them.
const std::unordered_map<int, std::string_view>& code_names() {
  static const std::unordered_map<int, std::string_view> names = {
  // clang-format off: one code per line
#define MONOLITE_CODE(name) {SQLITE_##name, "SQLITE_" #name},
      MONOLITE_CODE(OK) MONOLITE_CODE(ERROR) MONOLITE_CODE(INTERNAL) MONOLITE_CODE(PERM) MONOLITE_CODE(
          ABORT) MONOLITE_CODE(BUSY) MONOLITE_CODE(LOCKED) MONOLITE_CODE(NOMEM) MONOLITE_CODE(READONLY)
          MONOLITE_CODE(INTERRUPT) MONOLITE_CODE(IOERR) MONOLITE_CODE(CORRUPT) MONOLITE_CODE(NOTFOUND) MONOLITE_CODE(
              FULL) MONOLITE_CODE(CANTOPEN) MONOLITE_CODE(PROTOCOL) MONOLITE_CODE(EMPTY) MONOLITE_CODE(SCHEMA)
              MONOLITE_CODE(TOOBIG) MONOLITE_CODE(CONSTRAINT) MONOLITE_CODE(MISMATCH) MONOLITE_CODE(
                  MISUSE) MONOLITE_CODE(NOLFS) MONOLITE_CODE(AUTH) MONOLITE_CODE(FORMAT) MONOLITE_CODE(RANGE)
                  MONOLITE_CODE(NOTADB) MONOLITE_CODE(NOTICE) MONOLITE_CODE(WARNING) MONOLITE_CODE(ROW) MONOLITE_CODE(
                      DONE) MONOLITE_CODE(ERROR_MISSING_COLLSEQ) MONOLITE_CODE(ERROR_RETRY)
                      MONOLITE_CODE(ERROR_SNAPSHOT) MONOLITE_CODE(IOERR_READ) MONOLITE_CODE(
                          IOERR_SHORT_READ) MONOLITE_CODE(IOERR_WRITE) MONOLITE_CODE(IOERR_FSYNC)
                          MONOLITE_CODE(IOERR_DIR_FSYNC) MONOLITE_CODE(IOERR_TRUNCATE) MONOLITE_CODE(
                              IOERR_FSTAT) MONOLITE_CODE(IOERR_UNLOCK) MONOLITE_CODE(IOERR_RDLOCK)
                              MONOLITE_CODE(IOERR_DELETE) MONOLITE_CODE(IOERR_NOMEM) MONOLITE_CODE(
                                  IOERR_ACCESS) MONOLITE_CODE(IOERR_CHECKRESERVEDLOCK)
                                  MONOLITE_CODE(IOERR_LOCK) MONOLITE_CODE(IOERR_CLOSE) MONOLITE_CODE(
                                      IOERR_DIR_CLOSE) MONOLITE_CODE(IOERR_SHMOPEN) MONOLITE_CODE(IOERR_SHMSIZE)
                                      MONOLITE_CODE(IOERR_SHMLOCK) MONOLITE_CODE(IOERR_SHMMAP) MONOLITE_CODE(
                                          IOERR_SEEK) MONOLITE_CODE(IOERR_DELETE_NOENT) MONOLITE_CODE(IOERR_MMAP)
                                          MONOLITE_CODE(IOERR_GETTEMPPATH) MONOLITE_CODE(IOERR_CONVPATH) MONOLITE_CODE(
                                              IOERR_VNODE) MONOLITE_CODE(IOERR_AUTH) MONOLITE_CODE(IOERR_BEGIN_ATOMIC)
                                              MONOLITE_CODE(IOERR_COMMIT_ATOMIC) MONOLITE_CODE(IOERR_ROLLBACK_ATOMIC) MONOLITE_CODE(
                                                  IOERR_DATA) MONOLITE_CODE(IOERR_CORRUPTFS) MONOLITE_CODE(LOCKED_SHAREDCACHE)
                                                  MONOLITE_CODE(LOCKED_VTAB) MONOLITE_CODE(CANTOPEN_NOTEMPDIR) MONOLITE_CODE(
                                                      CANTOPEN_ISDIR) MONOLITE_CODE(CANTOPEN_FULLPATH) MONOLITE_CODE(CANTOPEN_CONVPATH)
                                                      MONOLITE_CODE(CANTOPEN_DIRTYWAL) MONOLITE_CODE(CANTOPEN_SYMLINK) MONOLITE_CODE(
                                                          CORRUPT_VTAB) MONOLITE_CODE(CORRUPT_SEQUENCE)
                                                          MONOLITE_CODE(CORRUPT_INDEX) MONOLITE_CODE(
                                                              READONLY_RECOVERY) MONOLITE_CODE(READONLY_CANTLOCK)
                                                              MONOLITE_CODE(READONLY_ROLLBACK) MONOLITE_CODE(
                                                                  READONLY_DBMOVED) MONOLITE_CODE(READONLY_CANTINIT)
                                                                  MONOLITE_CODE(READONLY_DIRECTORY) MONOLITE_CODE(
                                                                      ABORT_ROLLBACK) MONOLITE_CODE(CONSTRAINT_CHECK)
                                                                      MONOLITE_CODE(CONSTRAINT_COMMITHOOK) MONOLITE_CODE(
                                                                          CONSTRAINT_FOREIGNKEY) MONOLITE_CODE(CONSTRAINT_FUNCTION)
                                                                          MONOLITE_CODE(CONSTRAINT_NOTNULL) MONOLITE_CODE(
                                                                              CONSTRAINT_PRIMARYKEY)
                                                                              MONOLITE_CODE(CONSTRAINT_TRIGGER) MONOLITE_CODE(
                                                                                  CONSTRAINT_UNIQUE)
                                                                                  MONOLITE_CODE(CONSTRAINT_VTAB) MONOLITE_CODE(
                                                                                      CONSTRAINT_ROWID)
                                                                                      MONOLITE_CODE(CONSTRAINT_PINNED)
                                                                                          MONOLITE_CODE(
                                                                                              CONSTRAINT_DATATYPE)
                                                                                              MONOLITE_CODE(
                                                                                                  NOTICE_RECOVER_WAL)
                                                                                                  MONOLITE_CODE(
                                                                                                      NOTICE_RECOVER_ROLLBACK)
                                                                                                      MONOLITE_CODE(
                                                                                                          WARNING_AUTOINDEX)
                                                                                                          MONOLITE_CODE(
                                                                                                              AUTH_USER)
#undef MONOLITE_CODE
      // clang-format on
  };
  return names;
}

unsigned http_status_for(int extended_code) {
  switch (extended_code & 0xff) {
    case SQLITE_CONSTRAINT: return 409;
    case SQLITE_AUTH:
    case SQLITE_PERM: return 403;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return 503;
    case SQLITE_INTERRUPT: return 504;
    case SQLITE_TOOBIG: return 413;
    case SQLITE_ERROR:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_READONLY:
    case SQLITE_SCHEMA: return 400;
    default: return 500;  // I/O, corruption, out of memory, misuse: the server's fault, not the request's
  }
}

}  // namespace

std::string_view sqlite_code_name(int extended_code) {
  const auto& names = code_names();
  if (auto it = names.find(extended_code); it != names.end()) return it->second;
  if (auto it = names.find(extended_code & 0xff); it != names.end()) return it->second;
  return "SQLITE_UNKNOWN";
}

proto::api_error sqlite_error(int extended_code, std::string message) {
  proto::api_error error{http_status_for(extended_code), std::string(sqlite_code_name(extended_code)),
                         std::move(message)};
  if (error.status == 503) error.retry_after = 1;
  return error;
}

proto::api_error sqlite_error(sqlite3* connection) {
  return sqlite_error(sqlite3_extended_errcode(connection), sqlite3_errmsg(connection));
}

}  // namespace monolite::db
