// Verification: per table, the row count and a checksum computed the same way from the SQLite
// snapshot and from PostgreSQL's text output: each row is the canonical typed encoding of its
// values (move/values.hpp), hashed with SHA-256; the table's checksum adds the row digests up
// (four 64-bit lanes, wrapping), so it does not depend on row order and no ordering (collations
// differ between the two) has to agree. On a difference, the rows present on one side only are
// found through a multiset of row digests and printed.
#pragma once
#include <string>

#include "move/report.hpp"
#include "move/schema.hpp"
#include "move/sqlite_source.hpp"
#include "pg/connection.hpp"

namespace monolite::move {

std::string row_digest(const std::string& canonical_row);  // 32 raw bytes

// Appends to out.differences (at most `show` rows per table); returns false when they differ.
pg::result<bool> verify_table(sqlite_source& db, pg::connection& pg, const std::string& schema, const table_def& table,
                              std::string& checksum, report& out, std::size_t show = 10);

}  // namespace monolite::move
