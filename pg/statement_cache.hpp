// statement_cache — the prepared statements of one PostgreSQL connection, least recently used
// first out. Pure bookkeeping, no libpq: async_connection sends the Parse and DEALLOCATE messages
// and tells the cache what the server did. Not thread-safe: it lives on its connection's strand.
#pragma once
#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace monolite::pg {

// pgbench -M prepared keeps a handful; 256 distinct statements per connection covers an
// application's own, and bounds what a stream of ad-hoc SQL leaves on the server.
inline constexpr std::size_t default_statement_cache_capacity = 256;

// A statement is planned for its text and its parameters' declared types (0: inferred).
struct statement_key {
  std::string sql;
  std::vector<unsigned> param_oids;
  bool operator==(const statement_key&) const = default;
};

struct statement_key_hash {
  std::size_t operator()(const statement_key& key) const noexcept;
};

class statement_cache {
 public:
  explicit statement_cache(std::size_t capacity = default_statement_cache_capacity);

  // The name `key` is prepared under, now the most recently used; nullopt when not cached.
  std::optional<std::string> find(const statement_key& key);
  // A name never given before on this connection: "m1", "m2", …
  std::string next_name();
  // The server prepared `key` as `name`. Past the capacity the least recently used entry is
  // forgotten and its name queued for DEALLOCATE.
  void insert(statement_key key, std::string name);
  // Forgets `key` if it is cached as `name`; `deallocate`: the server still holds it (queued).
  void evict(const statement_key& key, const std::string& name, bool deallocate);
  // The names to send DEALLOCATE for, handed over once.
  std::vector<std::string> take_deallocations();

  std::size_t size() const { return index_.size(); }
  std::size_t capacity() const { return capacity_; }

 private:
  struct entry {
    statement_key key;
    std::string name;
  };
  using lru_list = std::list<entry>;  // front: the most recently used

  std::size_t capacity_;
  std::uint64_t last_number_ = 0;
  lru_list lru_;
  std::unordered_map<statement_key, lru_list::iterator, statement_key_hash> index_;
  std::vector<std::string> to_deallocate_;
};

}  // namespace monolite::pg
