// object_store — where replicas live: a flat key → bytes namespace under one URL's prefix.
// Calls block the calling thread (the replicator's upload thread, restore's download threads) and
// may be made from several threads at once. Expected failures are values, never exceptions.
#pragma once
#include <atomic>
#include <boost/system/result.hpp>
#include <cstdint>
#include <functional>
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

// Receives an object's bytes in order, piece by piece; false stops the download (reported as
// store_failure::other, "stopped by the reader").
using byte_sink = std::function<bool(std::string_view)>;

// Writes one object piece by piece. Nothing is visible under its key until commit() succeeds;
// a writer destroyed without a successful commit() leaves nothing behind (best effort on stores
// that need a request to clean up, e.g. aborting an S3 multipart upload).
class object_writer {
 public:
  virtual ~object_writer() = default;
  virtual store_result<void> write(std::string_view bytes) = 0;
  virtual store_result<void> commit() = 0;
  virtual std::uint64_t bytes_written() const = 0;
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

  // Streams the object's bytes from `offset` on into `sink`, so that an object need not fit in
  // memory and a broken download can resume where it stopped. Default: get() and one piece.
  virtual store_result<void> get_to(const std::string& key, std::uint64_t offset, const byte_sink& sink);
  // An object written piece by piece. Default: held in memory and put() on commit().
  virtual store_result<std::unique_ptr<object_writer>> begin_put(const std::string& key);
};

// Lets store_result<T>::value() throw; only where a failure is a bug (tests, invariants).
[[noreturn]] void throw_exception_from_error(const store_error& error, const boost::source_location& location);

// file:///abs/path or s3://bucket/prefix?endpoint=…&region=…&force_path_style=true
store_result<std::unique_ptr<object_store>> open_store(std::string_view url);

}  // namespace monolite::replica
