// The data passes over the snapshot: the mismatch scan (every value against its target type,
// before anything is written) and the COPY of one table into PostgreSQL.
#pragma once
#include <functional>

#include "move/report.hpp"
#include "move/schema.hpp"
#include "move/sqlite_source.hpp"
#include "move/verify.hpp"
#include "pg/connection.hpp"

namespace monolite::move {

// Appends the values of `table` that do not fit their column's type to `out` (the first
// reported_mismatches of them; all counted). With `as_text`, each column that has one is mapped
// to text instead (and named in out.columns_as_text).
std::string scan_mismatches(sqlite_source& db, table_def& table, bool as_text, report& out);

// How far one table's copy is: rows so far.
using progress_fn = std::function<void(const std::string& table, std::int64_t rows)>;

// COPY table FROM STDIN, fed in 1 MiB chunks while SQLite is read; the server parses one chunk
// while the next is encoded. The same pass adds every row to `checksum` (the SQLite side of the
// verification), so the snapshot is read once. Returns the rows and bytes sent.
// With `check`, the values are checked as scan_mismatches does (the copy is the scan, one pass
// less); after the first one that does not fit, nothing more is sent and the rest is only checked.
pg::result<table_report> copy_table(sqlite_source& db, pg::connection& pg, const table_def& table, row_sum& checksum,
                                    report* check, const progress_fn& progress);

// "rowid 5" or "id=5, k='a'": the key of a row for reports.
std::string key_select(const table_def& table);

}  // namespace monolite::move
