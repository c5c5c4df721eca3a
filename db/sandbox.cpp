#include "db/sandbox.hpp"

#include <sqlite3.h>
#include <strings.h>

#include <algorithm>
#include <array>
#include <cctype>

#include "db/sql_text.hpp"

namespace monolite::db {
namespace {

bool equals_nocase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, const char* name) {
  return name && std::any_of(list.begin(), list.end(), [&](auto entry) { return equals_nocase(entry, name); });
}

// Checkpointing, file locations and schema internals: never from a client.
constexpr std::array<std::string_view, 4> forbidden_pragmas = {"writable_schema", "wal_checkpoint",
                                                               "temp_store_directory", "data_store_directory"};

// Durability and connection settings a client could change for every later request on a shared
// connection: reading them is fine, setting them is not.
constexpr std::array<std::string_view, 22> setting_pragmas = {"journal_mode",
                                                              "synchronous",
                                                              "wal_autocheckpoint",
                                                              "locking_mode",
                                                              "query_only",
                                                              "mmap_size",
                                                              "trusted_schema",
                                                              "schema_version",
                                                              "foreign_keys",
                                                              "recursive_triggers",
                                                              "cache_size",
                                                              "busy_timeout",
                                                              "temp_store",
                                                              "case_sensitive_like",
                                                              "ignore_check_constraints",
                                                              "reverse_unordered_selects",
                                                              "automatic_index",
                                                              "secure_delete",
                                                              "auto_vacuum",
                                                              "page_size",
                                                              "max_page_count",
                                                              "read_uncommitted"};

constexpr std::array<std::string_view, 2> forbidden_functions = {"load_extension", "fts3_tokenizer"};

std::string refusal_for(int action, const char* arg1, const char* arg2) {
  switch (action) {
    case SQLITE_TRANSACTION:
    case SQLITE_SAVEPOINT:
      return "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is not allowed: "
             "each request already runs as one transaction";
    case SQLITE_ATTACH:
    case SQLITE_DETACH: return "ATTACH and DETACH are not allowed: the API serves one database";
    case SQLITE_FUNCTION:
      // fts3_tokenizer() hands out (and with two arguments takes) raw pointers.
      if (listed(forbidden_functions, arg2)) return std::string(arg2) + "() is not allowed";
      return {};
    case SQLITE_PRAGMA:
      if (listed(forbidden_pragmas, arg1)) return "PRAGMA " + std::string(arg1) + " is not allowed";
      if (arg2 && listed(setting_pragmas, arg1))
        return "setting PRAGMA " + std::string(arg1) + " is not allowed (reading it is)";
      return {};
    default: return {};
  }
}

}  // namespace

int sandbox::authorize(void* self, int action, const char* arg1, const char* arg2, const char*, const char*) {
  auto* box = static_cast<sandbox*>(self);
  if (!box->active) return SQLITE_OK;
  auto why = refusal_for(action, arg1, arg2);
  if (why.empty()) return SQLITE_OK;
  box->denial = std::move(why);
  return SQLITE_DENY;
}

int sandbox::progress(void* self) {
  auto* box = static_cast<sandbox*>(self);
  if (box->interrupted.load(std::memory_order_relaxed)) return 1;
  if (box->deadline != clock::time_point::max() && clock::now() > box->deadline) {
    box->timed_out = true;
    return 1;
  }
  return 0;
}

std::string sandbox::refuse_by_keyword(std::string_view sql) {
  const auto start = skip_blanks_and_comments(sql);
  if (start.size() >= 6 && equals_nocase(start.substr(0, 6), "vacuum") &&
      (start.size() == 6 || !std::isalnum(static_cast<unsigned char>(start[6]))))
    return "VACUUM is not allowed through the API (it rewrites the whole file; run it offline)";
  return {};
}

}  // namespace monolite::db
