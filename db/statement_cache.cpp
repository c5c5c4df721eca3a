#include "db/statement_cache.hpp"

#include <sqlite3.h>

namespace monolite::db {

// At least one entry: the statement just inserted is in use by the caller.
statement_cache::statement_cache(std::size_t capacity) : capacity_(capacity ? capacity : 1) {}

statement_cache::~statement_cache() { clear(); }

sqlite3_stmt* statement_cache::find(std::string_view sql) {
  auto it = index_.find(sql);
  if (it == index_.end()) return nullptr;
  entries_.splice(entries_.begin(), entries_, it->second);
  return it->second->statement;
}

void statement_cache::insert(std::string sql, sqlite3_stmt* statement) {
  entries_.push_front({std::move(sql), statement});
  index_[entries_.front().sql] = entries_.begin();
  if (entries_.size() > capacity_) {
    index_.erase(entries_.back().sql);
    sqlite3_finalize(entries_.back().statement);
    entries_.pop_back();
  }
}

void statement_cache::clear() {
  index_.clear();
  for (auto& e : entries_)
    sqlite3_finalize(e.statement);
  entries_.clear();
}

}  // namespace monolite::db
