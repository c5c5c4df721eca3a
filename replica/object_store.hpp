// object_store — where replicas live: a flat key → bytes namespace under one URL's prefix.
// Calls block the calling thread (the replicator's upload thread, restore's download threads) and
// may be made from several threads at once. Expected failures are values, never exceptions.
#pragma once
#include <atomic>
#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace monolite::replica {

enum class store_failure {
  not_found,    // get() of a key that does not exist
  denied,       // credentials refused (403 SignatureDoesNotMatch, InvalidAccessKeyId, AccessDenied…)
  unreachable,  // connection refused/reset, timeout, DNS, TLS: worth retrying
  server,       // 5xx, throttling (503 SlowDown): worth retrying
  bad_url,      // the replica URL itself is wrong
  other,        // anything else (local I/O error, malformed reply)
};

struct store_error {
  store_failure kind = store_failure::other;
  std::string message;  // human-readable; never contains a secret
  bool retryable() const { return kind == store_failure::unreachable || kind == store_failure::server; }
};

template <class T>
using store_result = boost::system::result<T, store_error>;

struct object_info {
  std::string key;  // relative to the store's prefix, '/'-separated
  std::uint64_t size = 0;
};

// Requests made to a store, by the kinds object stores bill for.
struct request_counts {
  std::uint64_t put = 0;  // an object, or one part of a multipart upload
  std::uint64_t get = 0;
  std::uint64_t list = 0;       // one page of a listing
  std::uint64_t remove = 0;     // one DeleteObjects call (up to 1,000 keys)
  std::uint64_t multipart = 0;  // initiating, completing or aborting a multipart upload
};

// Thread-safe tallies behind object_store::requests().
class request_counter {
 public:
  enum class kind { put, get, list, remove, multipart };
  void count(kind k) { counts_[static_cast<int>(k)].fetch_add(1, std::memory_order_relaxed); }
  request_counts snapshot() const {
    auto at = [&](kind k) { return counts_[static_cast<int>(k)].load(std::memory_order_relaxed); };
    return {at(kind::put), at(kind::get), at(kind::list), at(kind::remove), at(kind::multipart)};
  }

 private:
  std::atomic<std::uint64_t> counts_[5] = {};
};

class object_store {
 public:
  virtual ~object_store() = default;
  // The URL without credentials, for logs and metrics labels.
  virtual std::string describe() const = 0;
  // Atomic from a reader's point of view: a key is either absent or holds all of `bytes`.
  virtual store_result<void> put(const std::string& key, std::string_view bytes) = 0;
  virtual store_result<std::string> get(const std::string& key) = 0;
  // Every object whose key starts with `prefix` (all pages), sorted by key.
  virtual store_result<std::vector<object_info>> list(const std::string& prefix) = 0;
  // Deleting a missing key is not an error.
  virtual store_result<void> remove(const std::vector<std::string>& keys) = 0;
  // Requests made so far, failed ones included (for /metrics and the cost table).
  virtual request_counts requests() const { return {}; }
};

// Lets store_result<T>::value() throw; only where a failure is a bug (tests, invariants).
[[noreturn]] void throw_exception_from_error(const store_error& error, const boost::source_location& location);

// file:///abs/path or s3://bucket/prefix?endpoint=…&region=…&force_path_style=true
store_result<std::unique_ptr<object_store>> open_store(std::string_view url);

}  // namespace monolite::replica
