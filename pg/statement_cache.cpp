#include "pg/statement_cache.hpp"

#include <algorithm>
#include <functional>
#include <utility>

namespace monolite::pg {

std::size_t statement_key_hash::operator()(const statement_key& key) const noexcept {
  std::size_t h = std::hash<std::string>{}(key.sql);
  for (unsigned oid : key.param_oids)
    h ^= std::hash<unsigned>{}(oid) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  return h;
}

statement_cache::statement_cache(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::optional<std::string> statement_cache::find(const statement_key& key) {
  const auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->name;
}

std::string statement_cache::next_name() { return "m" + std::to_string(++last_number_); }

void statement_cache::insert(statement_key key, std::string name) {
  if (const auto it = index_.find(key); it != index_.end()) {
    to_deallocate_.push_back(std::move(name));  // prepared twice: keep the first, drop this one
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front({std::move(key), std::move(name)});
  index_.emplace(lru_.front().key, lru_.begin());
  if (index_.size() <= capacity_) return;
  auto& oldest = lru_.back();
  to_deallocate_.push_back(std::move(oldest.name));
  index_.erase(oldest.key);
  lru_.pop_back();
}

void statement_cache::evict(const statement_key& key, const std::string& name, bool deallocate) {
  const auto it = index_.find(key);
  if (it == index_.end() || it->second->name != name) return;
  if (deallocate) to_deallocate_.push_back(name);
  lru_.erase(it->second);
  index_.erase(it);
}

std::vector<std::string> statement_cache::take_deallocations() { return std::exchange(to_deallocate_, {}); }

}  // namespace monolite::pg
