// The bytes of a database as of a WAL position, read straight from its files: each page from
// the newest WAL frame at or before `wal_frames`, otherwise from the database file. The caller
// must hold a read transaction that began at or before that position (and still runs): then no
// checkpoint can rewrite those pages and SQLite cannot restart the WAL underneath.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "proto/error.hpp"

namespace monolite::db {

struct image_info {
  std::uint32_t page_size = 0;
  std::uint32_t pages = 0;
};

// `wal_frames`: frames of the current WAL that belong to the image (0 = the database file alone).
// `sink` receives the pages in order, several at a time.
proto::result<image_info> read_image(const std::string& db_path, std::uint32_t wal_frames,
                                     const std::function<void(std::string_view)>& sink);

// The number of valid, committed frames in the database's WAL right now (0 when it has none).
proto::result<std::uint32_t> committed_wal_frames(const std::string& db_path);

}  // namespace monolite::db
