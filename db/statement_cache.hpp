// A least-recently-used cache of prepared statements keyed by their SQL text.
// Owns the statements it holds and finalizes them on eviction; one connection, one thread at a time.
#pragma once
#include <cstddef>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3_stmt;

namespace monolite::db {

class statement_cache {
 public:
  explicit statement_cache(std::size_t capacity);
  ~statement_cache();
  statement_cache(const statement_cache&) = delete;
  statement_cache& operator=(const statement_cache&) = delete;

  // The cached statement for this SQL, or nullptr; a hit becomes the most recently used.
  sqlite3_stmt* find(std::string_view sql);
  // Takes ownership; evicts (finalizes) the least recently used entry past capacity.
  void insert(std::string sql, sqlite3_stmt* statement);
  void clear();
  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    std::string sql;
    sqlite3_stmt* statement;
  };
  std::size_t capacity_;
  std::list<entry> entries_;  // front = most recently used
  std::unordered_map<std::string_view, std::list<entry>::iterator> index_;
};

}  // namespace monolite::db
