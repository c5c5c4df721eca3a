// wal_tail — follows the live WAL of the write connection. After each commit the writer calls
// capture(): the frames added since the last call are read from the -wal file, checked (salts,
// checksum chain, ending on a commit frame) and returned as one chunk for the replicator. A new
// WAL header (SQLite restarted the WAL after a checkpoint) starts the next "index".
// Used only on the writer's strand.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/wal_format.hpp"
#include "proto/error.hpp"

namespace monolite::db {

struct wal_chunk {
  std::uint32_t index = 0;
  std::uint32_t first_frame = 1;
  std::uint32_t prev_index_frames = 0;  // set on the first chunk of an index > 0
  std::array<unsigned char, db::wal::header_size> wal_header{};
  db::wal::checksum chain_in;
  std::string frames;
  std::vector<std::int64_t> commit_times_ms;
  std::uint32_t frame_count() const;
  wal::position end() const { return {index, first_frame + frame_count() - 1}; }
};

class wal_tail {
 public:
  explicit wal_tail(std::string db_path);
  ~wal_tail();
  wal_tail(const wal_tail&) = delete;
  wal_tail& operator=(const wal_tail&) = delete;

  // Reads the WAL as it is now (its valid, committed frames) and calls that position `index`.
  // With `resume_frame`, the tail stands after that frame instead (a replica holds up to there),
  // and returns the frames after it as the first chunk.
  // `prev_index_frames`: where the previous index ended, when the replica holds it to its end.
  proto::result<std::optional<wal_chunk>> start(std::uint32_t index, std::optional<std::uint32_t> resume_frame = {},
                                                std::int64_t now_ms = 0, std::uint32_t prev_index_frames = 0);
  // The frames up to `wal_frames` (SQLite's count after the commit that just happened).
  proto::result<std::optional<wal_chunk>> capture(std::uint32_t wal_frames, std::int64_t now_ms);

  wal::position position() const { return {index_, frames_}; }
  // After a checkpoint that copied every frame (SQLite restarts the WAL with the next commit):
  // records in `<db>-walmark` how this WAL index ended — its header, frame count and chain value —
  // so a restart can tell whether the replica holds that index to its very end.
  void write_mark() const;
  // Salts and chain value of the current index (for continuity checks at startup).
  const std::optional<db::wal::header>& header() const { return header_; }
  db::wal::checksum chain() const { return chain_; }

 private:
  enum class wal_state { empty, has_header };
  proto::result<wal_state> read_header(std::array<unsigned char, db::wal::header_size>& raw);

  std::string db_path_, wal_path_, mark_path_;
  int fd_ = -1;
  std::uint32_t index_ = 0, frames_ = 0, prev_index_frames_ = 0;
  std::optional<db::wal::header> header_;
  std::array<unsigned char, db::wal::header_size> raw_header_{};
  db::wal::checksum chain_;
};

struct wal_mark {
  std::array<unsigned char, db::wal::header_size> wal_header{};
  std::uint32_t frames = 0;
  db::wal::checksum chain;
  std::uint64_t db_inode = 0;  // the database file the mark belongs to
};
// The inode of the database file (0 if it cannot be read).
std::uint64_t file_inode(const std::string& path);
std::optional<wal_mark> read_wal_mark(const std::string& db_path);

// Reads `size` bytes at `offset`; fewer at the end of the file.
proto::result<std::string> read_file_range(int fd, std::uint64_t offset, std::size_t size);

}  // namespace monolite::db
