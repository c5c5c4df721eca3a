#include "move/copy.hpp"

#include <chrono>

#include "move/values.hpp"
#include "pg/quote.hpp"

namespace monolite::move {
namespace {

constexpr std::size_t copy_chunk_bytes = 1024 * 1024;

std::string key_text(const table_def& table, const std::vector<value>& values, std::size_t key_columns) {
  if (!table.without_rowid) return "rowid " + display(values[0]);
  std::string out;
  for (std::size_t i = 0; i < key_columns; ++i) {
    out += (i ? ", " : "") + table.primary_key[i] + "=" + display(values[i]);
  }
  return out;
}

}  // namespace

std::string key_select(const table_def& table) {
  if (!table.without_rowid) return "rowid";
  std::string out;
  for (const auto& k : table.primary_key)
    out += (out.empty() ? "" : ", ") + sqlite_ident(k);
  return out;
}

namespace {

// Counts (and keeps the first of) the values of one row that do not fit; marks their columns.
void check_row(const table_def& table, const std::vector<value>& values, std::size_t key_columns, bool as_text,
               std::vector<bool>& misfitting, report& out) {
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    const auto& v = values[key_columns + c];
    auto why = misfit(table.columns[c].type, v);
    if (!why) continue;
    misfitting[c] = true;
    if (as_text) continue;  // the column becomes text, which holds every value
    ++out.mismatch_count;
    if (out.mismatches.size() < reported_mismatches) {
      out.mismatches.push_back(
          {table.name, key_text(table, values, key_columns), table.columns[c].name, display(v), *why});
    }
  }
}

std::size_t key_count(const table_def& table) { return table.without_rowid ? table.primary_key.size() : 1; }

std::string keyed_select(const table_def& table) {
  return "SELECT " + key_select(table) + ", " + sqlite_select_list(table, false) + " FROM " + sqlite_ident(table.name);
}

// COPY t (the columns PostgreSQL does not compute) FROM STDIN; `types` gets every column's type.
std::string copy_statement(const table_def& table, std::vector<pg_type>& types) {
  std::string columns;
  for (const auto& c : table.columns) {
    types.push_back(c.as_text ? pg_type{kind::text} : c.type);
    if (!c.computed_in_pg) columns += (columns.empty() ? "" : ", ") + pg::quote_ident(c.name);
  }
  return "COPY " + pg::quote_ident(table.name) + " (" + columns + ") FROM STDIN";
}

}  // namespace

std::string scan_mismatches(sqlite_source& db, table_def& table, bool as_text, report& out) {
  std::vector<bool> misfitting(table.columns.size(), false);
  auto error = db.each_row(keyed_select(table), [&](const std::vector<value>& values) {
    check_row(table, values, key_count(table), as_text, misfitting, out);
    return true;
  });
  if (!as_text) return error;
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    if (!misfitting[c]) continue;
    table.columns[c].as_text = true;
    out.columns_as_text.push_back(table.name + "." + table.columns[c].name + " (" + table.columns[c].type.sql() + ")");
  }
  return error;
}

pg::result<table_report> copy_table(sqlite_source& db, pg::connection& pg, const table_def& table, row_sum& checksum,
                                    report* check, const progress_fn& progress) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<pg_type> types;
  if (auto started_copy = pg.copy_in(copy_statement(table, types)); !started_copy) return started_copy.error();
  table_report out{table.name, 0, 0, 0, {}};
  std::string buffer, canonical;
  buffer.reserve(copy_chunk_bytes + 64 * 1024);
  pg::result<void> sent;
  std::vector<bool> misfitting(table.columns.size(), false);
  const std::size_t keys = key_count(table);
  // The key columns first (for mismatch reports), then every column: the checksum covers those
  // PostgreSQL computes too, which are not sent.
  auto error = db.each_row(keyed_select(table), [&](const std::vector<value>& values) {
    if (check) check_row(table, values, keys, false, misfitting, *check);
    if (check && check->mismatch_count > 0) return true;  // nothing more is sent; the scan goes on
    for (std::size_t c = 0, sent_columns = 0; c < table.columns.size(); ++c) {
      if (table.columns[c].computed_in_pg) continue;
      if (sent_columns++) buffer += '\t';
      append_copy_field(types[c], values[keys + c], buffer);
    }
    buffer += '\n';
    canonical.clear();
    append_canonical_row(table, values, keys, canonical);
    checksum.add(canonical);
    if (++out.rows % 65536 == 0 && progress) progress(table.name, out.rows);
    if (buffer.size() < copy_chunk_bytes) return true;
    out.bytes += static_cast<std::int64_t>(buffer.size());
    sent = pg.put(buffer);
    buffer.clear();
    return sent.has_value();
  });
  if (!sent) return sent.error();
  if (!error.empty()) return pg::error{"58000", "reading " + table.name + " from SQLite: " + error, {}, {}, 0, {}};
  out.bytes += static_cast<std::int64_t>(buffer.size());
  if (!buffer.empty()) {
    if (auto last = pg.put(buffer); !last) return last.error();
  }
  auto copied = pg.finish();
  if (!copied) return copied.error();
  if (progress) progress(table.name, out.rows);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return out;
}

}  // namespace monolite::move
