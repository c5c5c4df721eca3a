// The bytes of a database as of a WAL position, read straight from its files: each page from
// the newest WAL frame at or before `wal_frames`, otherwise from the database file. The caller
// must hold a read transaction that began at or before that position (and still runs): then no
// checkpoint can rewrite those pages and SQLite cannot restart the WAL underneath.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "proto/error.hpp"

struct sqlite3;

namespace monolite::db {

struct image_info {
  std::uint32_t page_size = 0;
  std::uint32_t pages = 0;
};

// `wal_frames`: frames of the current WAL that belong to the image (0 = the database file alone).
// `sink` receives the pages in order, several at a time.
proto::result<image_info> read_image(const std::string& db_path, std::uint32_t wal_frames,
                                     const std::function<void(std::string_view)>& sink);

// The same image read a range at a time, for a consumer that pulls (a snapshot streamed to a
// client at the client's pace). Same rule: a read transaction must pin the position meanwhile.
class image_reader {
 public:
  static proto::result<image_reader> open(const std::string& db_path, std::uint32_t wal_frames);
  image_reader(image_reader&&) noexcept;
  image_reader& operator=(image_reader&&) noexcept;
  ~image_reader();
  const image_info& info() const { return info_; }
  // Pages [first, first + count) (1-based, clipped to the image) appended to `out`.
  proto::result<void> read_pages(std::uint32_t first, std::uint32_t count, std::string& out) const;

 private:
  struct state;
  explicit image_reader(std::unique_ptr<state> s);
  std::unique_ptr<state> state_;
  image_info info_;
};

// A read-only connection holding a read transaction for as long as it lives: no checkpoint can
// move pages under an image read meanwhile (verify copies the live database under one).
class read_pin {
 public:
  static proto::result<read_pin> open(const std::string& db_path);
  read_pin(read_pin&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  read_pin(const read_pin&) = delete;
  read_pin& operator=(const read_pin&) = delete;
  read_pin& operator=(read_pin&&) = delete;
  ~read_pin();

 private:
  explicit read_pin(::sqlite3* db) : db_(db) {}
  ::sqlite3* db_;
};

// The number of valid, committed frames in the database's WAL right now (0 when it has none).
proto::result<std::uint32_t> committed_wal_frames(const std::string& db_path);

}  // namespace monolite::db
