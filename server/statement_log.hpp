// serve --statement-log FILE: every distinct statement shape (db/sql_normalize.hpp) the server was
// sent, with how often and when, for the portability check. Bounded: at most `limit` shapes are
// kept (the ones already in FILE always are); a new one past that is only counted as dropped.
// Touched once per statement from the HTTP threads, never from the writer's strand: sharded maps,
// one mutex each, held for a lookup and an increment.
// FILE: one JSON object per line, {"sql", "count", "first_seen", "last_seen"} (Unix seconds),
// sorted by sql; replaced whole (temporary file, fsync, rename), so a reader never sees half of it.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "proto/error.hpp"

namespace monolite::server {

struct statement_stats {
  std::uint64_t count = 0;
  std::int64_t first_seen = 0;  // Unix seconds
  std::int64_t last_seen = 0;
};
using statement_table = std::map<std::string, statement_stats>;

// The lines of a statement log file merged into `into` (a shape seen twice adds up); an error
// names the first line that is not one of ours.
proto::result<void> merge_statement_lines(std::string_view text, statement_table& into);
std::string encode_statement_lines(const statement_table& table);

class statement_log {
 public:
  static constexpr std::size_t max_shape_bytes = 4096;  // longer shapes are cut there, with "…"

  // Reads what `path` holds (missing: nothing yet) and writes it back, so that a path that cannot
  // be written fails now rather than at the first save.
  static proto::result<std::unique_ptr<statement_log>> open(std::string path, std::size_t limit);
  statement_log(std::string path, std::size_t limit) : path_(std::move(path)), limit_(limit) {}

  // Thread-safe.
  void record(std::string_view sql, std::int64_t now_seconds);
  void record(std::string_view sql);
  std::uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  std::size_t size() const { return stored_.load(std::memory_order_relaxed); }
  statement_table table() const;
  // Replaces the file with what is held now; does nothing when nothing changed since the last save.
  proto::result<void> save();
  void merge(const statement_table& table);  // before recording: what the file held
  const std::string& path() const { return path_; }

 private:
  struct shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, statement_stats> shapes;
  };
  shard& shard_for(const std::string& shape);

  std::string path_;
  std::size_t limit_;
  std::array<shard, 16> shards_;
  std::atomic<std::size_t> stored_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> changes_{1};  // 1: the first save always writes
  std::mutex save_mutex_;
  std::uint64_t saved_changes_ = 0;  // under save_mutex_
};

}  // namespace monolite::server
