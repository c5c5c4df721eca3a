#include "move/verify.hpp"

#include <openssl/sha.h>

#include <array>
#include <cstring>
#include <unordered_map>

#include "move/copy.hpp"
#include "move/values.hpp"
#include "pg/quote.hpp"

namespace monolite::move {
namespace {

using lanes = std::array<std::uint64_t, 4>;

void add_digest(lanes& sum, const std::string& digest) {
  for (int i = 0; i < 4; ++i) {
    std::uint64_t lane = 0;
    std::memcpy(&lane, digest.data() + 8 * i, 8);
    sum[i] += lane;
  }
}

std::string hex_of(const lanes& sum, std::int64_t rows) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = std::to_string(rows) + ":";
  for (auto lane : sum) {
    for (int b = 7; b >= 0; --b) {
      out += hex[lane >> (8 * b + 4) & 15];
      out += hex[lane >> (8 * b) & 15];
    }
  }
  return out;
}

std::vector<pg_type> column_types(const table_def& table) {
  std::vector<pg_type> types;
  for (const auto& c : table.columns)
    types.push_back(c.as_text ? pg_type{kind::text} : c.type);
  return types;
}

// Splits one COPY text line into fields (nullopt = \N), unescaped.
std::vector<std::optional<std::string>> copy_fields(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  std::vector<std::optional<std::string>> out;
  std::size_t start = 0;
  for (;;) {
    const auto tab = line.find('\t', start);
    const auto field = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
    out.push_back(field == "\\N" ? std::nullopt : std::optional(copy_unescaped(field)));
    if (tab == std::string_view::npos) return out;
    start = tab + 1;
  }
}

std::string pg_select(const std::string& schema, const table_def& table) {
  std::string columns;
  for (const auto& c : table.columns)
    columns += (columns.empty() ? "" : ", ") + pg::quote_ident(c.name);
  return "COPY (SELECT " + columns + " FROM " + pg::qualified(schema, table.name) + ") TO STDOUT";
}

// Calls `row` with the canonical encoding and a display of every PostgreSQL row.
pg::result<std::int64_t> each_pg_row(pg::connection& pg, const std::string& schema, const table_def& table,
                                     const std::function<void(const std::string&, const std::string&)>& row) {
  const auto types = column_types(table);
  std::string canonical;
  return pg.copy_out(pg_select(schema, table), [&](std::string_view line) {
    canonical.clear();
    std::string shown;
    const auto fields = copy_fields(line);
    for (std::size_t c = 0; c < types.size() && c < fields.size(); ++c) {
      append_canonical_pg(types[c], fields[c] ? std::optional<std::string_view>(*fields[c]) : std::nullopt, canonical);
    }
    if (fields.size() != types.size()) canonical += "X";
    row(canonical, std::string(line.substr(0, line.size() - 1)));
  });
}

std::string each_sqlite_row(sqlite_source& db, const table_def& table,
                            const std::function<void(const std::string&, const std::string&)>& row) {
  const auto types = column_types(table);
  const std::string sql = "SELECT " + sqlite_select_list(table, false) + " FROM " + sqlite_ident(table.name);
  std::string canonical;
  return db.each_row(sql, [&](const std::vector<value>& values) {
    canonical.clear();
    for (std::size_t c = 0; c < types.size(); ++c)
      append_canonical(types[c], values[c], canonical);
    row(canonical, "");
    return true;
  });
}

std::string display_row(const std::vector<value>& values) {
  std::string out = "(";
  for (std::size_t i = 0; i < values.size(); ++i)
    out += (i ? ", " : "") + display(values[i]);
  return out + ")";
}

// The rows on one side only: digests counted from PostgreSQL, taken away by SQLite's rows.
pg::result<void> find_differences(sqlite_source& db, pg::connection& pg, const std::string& schema,
                                  const table_def& table, report& out, std::size_t show) {
  std::unordered_map<std::string, std::int64_t> pg_rows;
  auto counted =
      each_pg_row(pg, schema, table, [&](const std::string& c, const std::string&) { ++pg_rows[row_digest(c)]; });
  if (!counted) return counted.error();
  const auto types = column_types(table);
  std::size_t shown = 0;
  const std::string sql =
      "SELECT " + key_select(table) + ", " + sqlite_select_list(table, false) + " FROM " + sqlite_ident(table.name);
  std::string canonical;
  db.each_row(sql, [&](const std::vector<value>& values) {
    canonical.clear();
    const std::size_t offset = values.size() - types.size();
    for (std::size_t c = 0; c < types.size(); ++c)
      append_canonical(types[c], values[offset + c], canonical);
    auto found = pg_rows.find(row_digest(canonical));
    if (found != pg_rows.end() && found->second > 0) {
      --found->second;
    } else if (shown++ < show) {
      std::vector<value> key(values.begin(), values.begin() + offset), rest(values.begin() + offset, values.end());
      out.differences.push_back({table.name, "sqlite", "key " + display_row(key) + " row " + display_row(rest)});
    }
    return true;
  });
  shown = 0;
  auto listed = each_pg_row(pg, schema, table, [&](const std::string& c, const std::string& line) {
    auto found = pg_rows.find(row_digest(c));
    if (found == pg_rows.end() || found->second <= 0) return;
    --found->second;
    if (shown++ < show) out.differences.push_back({table.name, "postgres", line});
  });
  if (!listed) return listed.error();
  return {};
}

}  // namespace

std::string row_digest(const std::string& canonical_row) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(canonical_row.data()), canonical_row.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

pg::result<bool> verify_table(sqlite_source& db, pg::connection& pg, const std::string& schema, const table_def& table,
                              std::string& checksum, report& out, std::size_t show) {
  lanes sqlite_sum{}, pg_sum{};
  std::int64_t sqlite_rows = 0;
  auto error = each_sqlite_row(db, table, [&](const std::string& c, const std::string&) {
    add_digest(sqlite_sum, row_digest(c));
    ++sqlite_rows;
  });
  if (!error.empty()) return pg::error{"58000", "reading " + table.name + " from SQLite: " + error, {}, {}, 0, {}};
  auto pg_rows = each_pg_row(pg, schema, table,
                             [&](const std::string& c, const std::string&) { add_digest(pg_sum, row_digest(c)); });
  if (!pg_rows) return pg_rows.error();
  checksum = hex_of(sqlite_sum, sqlite_rows);
  if (sqlite_sum == pg_sum && sqlite_rows == *pg_rows) return true;
  if (auto found = find_differences(db, pg, schema, table, out, show); !found) return found.error();
  return false;
}

}  // namespace monolite::move
