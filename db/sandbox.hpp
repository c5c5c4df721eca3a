// What client SQL may do on a connection, enforced by SQLite's authorizer and progress handler:
// no transaction control (each request already is one transaction), no ATTACH/DETACH, no
// load_extension, no VACUUM, no pragma that changes durability, checkpointing or connection state;
// and a deadline per statement. Owned by one connection; `interrupted` may be set from any thread.
#pragma once
#include <atomic>
#include <chrono>
#include <string>
#include <string_view>

namespace monolite::db {

struct sandbox {
  using clock = std::chrono::steady_clock;

  bool active = true;  // off while the server runs its own statements
  std::string denial;  // why the authorizer refused the last prepare, if it did
  std::atomic<bool> interrupted{false};
  clock::time_point deadline = clock::time_point::max();
  bool timed_out = false;

  static int authorize(void* self, int action, const char* arg1, const char* arg2, const char* db, const char* trigger);
  static int progress(void* self);

  // Non-empty when the statement's first keyword is one the authorizer cannot see (VACUUM).
  static std::string refuse_by_keyword(std::string_view sql);
};

}  // namespace monolite::db
