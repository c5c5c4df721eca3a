// Verification: per table, the row count and a checksum computed the same way from the SQLite
// snapshot and from PostgreSQL's text output: each row is the canonical typed encoding of its
// values (move/values.hpp), hashed with SHA-256; the table's checksum adds the row digests up
// (four 64-bit lanes, wrapping), so it does not depend on row order and no ordering (collations
// differ between the two) has to agree. On a difference, the rows present on one side only are
// found through a multiset of row digests and printed.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "move/report.hpp"
#include "move/schema.hpp"
#include "move/sqlite_source.hpp"
#include "pg/connection.hpp"

namespace monolite::move {

std::string row_digest(std::string_view canonical_row);  // 32 raw bytes

// One side of a table's checksum: the row count and the row digests added up. One SHA-256 context
// is reused for every row (a fresh one per row costs more than hashing a row).
class row_sum {
 public:
  row_sum();
  row_sum(row_sum&& other) noexcept;
  row_sum& operator=(row_sum&& other) noexcept;
  row_sum(const row_sum&) = delete;
  row_sum& operator=(const row_sum&) = delete;
  ~row_sum();

  void add(std::string_view canonical_row);
  bool operator==(const row_sum& other) const { return rows_ == other.rows_ && lanes_ == other.lanes_; }
  std::int64_t rows() const { return rows_; }
  std::string hex() const;  // "rows:64 hex digits"

 private:
  void* context_ = nullptr;  // EVP_MD_CTX
  std::array<std::uint64_t, 4> lanes_{};
  std::int64_t rows_ = 0;
};

// The canonical encoding of one SQLite row (columns of `table` in order) for row_sum.
void append_canonical_row(const table_def& table, const std::vector<value>& values, std::size_t offset,
                          std::string& out);

// Appends to out.differences (at most `show` rows per table); returns false when they differ.
// `sqlite_side`: the SQLite snapshot's sum when the copy already computed it; read again otherwise
// (while PostgreSQL's rows are read, on another thread).
pg::result<bool> verify_table(sqlite_source& db, pg::connection& pg, const std::string& schema, const table_def& table,
                              const row_sum* sqlite_side, std::string& checksum, report& out, std::size_t show = 10);

}  // namespace monolite::move
