#include "move/verify.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <unordered_map>

#include "move/copy.hpp"
#include "move/values.hpp"
#include "pg/quote.hpp"

namespace monolite::move {
namespace {

const EVP_MD* sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // fetched once: a lookup per row is slow
  if (!md) throw std::runtime_error("OpenSSL has no SHA-256");
  return md;
}

void digest_of(EVP_MD_CTX* context, std::string_view data, unsigned char* out) {
  unsigned int size = 0;
  if (EVP_DigestInit_ex2(context, sha256(), nullptr) != 1 || EVP_DigestUpdate(context, data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context, out, &size) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
}

std::vector<pg_type> column_types(const table_def& table) {
  std::vector<pg_type> types;
  for (const auto& c : table.columns)
    types.push_back(c.as_text ? pg_type{kind::text} : c.type);
  return types;
}

// The fields of COPY text lines, unescaped without an allocation per field: a field with no
// backslash is a view of the line, one with escapes is decoded into its column's reused buffer.
class copy_line_fields {
 public:
  const std::vector<std::optional<std::string_view>>& split(std::string_view line) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    fields_.clear();
    std::size_t start = 0;
    for (;;) {
      const auto tab = line.find('\t', start);
      const auto field = line.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start);
      fields_.push_back(decoded(field, fields_.size()));
      if (tab == std::string_view::npos) return fields_;
      start = tab + 1;
    }
  }

 private:
  std::optional<std::string_view> decoded(std::string_view field, std::size_t column) {
    if (field == "\\N") return std::nullopt;
    if (field.find('\\') == std::string_view::npos) return field;
    if (scratch_.size() <= column) scratch_.resize(column + 1);
    scratch_[column] = copy_unescaped(field);
    return std::string_view(scratch_[column]);
  }

  std::vector<std::optional<std::string_view>> fields_;
  std::deque<std::string> scratch_;  // growing it keeps the earlier buffers (views point into them)
};

std::string pg_select(const std::string& schema, const table_def& table) {
  std::string columns;
  for (const auto& c : table.columns)
    columns += (columns.empty() ? "" : ", ") + pg::quote_ident(c.name);
  return "COPY (SELECT " + columns + " FROM " + pg::qualified(schema, table.name) + ") TO STDOUT";
}

// Calls `row` with the canonical encoding and the COPY line (without '\n') of every PostgreSQL row.
pg::result<std::int64_t> each_pg_row(pg::connection& pg, const std::string& schema, const table_def& table,
                                     const std::function<void(const std::string&, std::string_view)>& row) {
  const auto types = column_types(table);
  std::string canonical;
  copy_line_fields splitter;
  return pg.copy_out(pg_select(schema, table), [&](std::string_view line) {
    canonical.clear();
    const auto& fields = splitter.split(line);
    for (std::size_t c = 0; c < types.size() && c < fields.size(); ++c)
      append_canonical_pg(types[c], fields[c], canonical);
    if (fields.size() != types.size()) canonical += "X";
    row(canonical, line.substr(0, line.size() - 1));
  });
}

std::string each_sqlite_row(sqlite_source& db, const table_def& table,
                            const std::function<void(const std::string&)>& row) {
  const std::string sql = "SELECT " + sqlite_select_list(table, false) + " FROM " + sqlite_ident(table.name);
  std::string canonical;
  return db.each_row(sql, [&](const std::vector<value>& values) {
    canonical.clear();
    append_canonical_row(table, values, 0, canonical);
    row(canonical);
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
      each_pg_row(pg, schema, table, [&](const std::string& c, std::string_view) { ++pg_rows[row_digest(c)]; });
  if (!counted) return counted.error();
  const std::size_t columns = table.columns.size();
  std::size_t shown = 0;
  const std::string sql =
      "SELECT " + key_select(table) + ", " + sqlite_select_list(table, false) + " FROM " + sqlite_ident(table.name);
  std::string canonical;
  db.each_row(sql, [&](const std::vector<value>& values) {
    canonical.clear();
    const std::size_t offset = values.size() - columns;
    append_canonical_row(table, values, offset, canonical);
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
  auto listed = each_pg_row(pg, schema, table, [&](const std::string& c, std::string_view line) {
    auto found = pg_rows.find(row_digest(c));
    if (found == pg_rows.end() || found->second <= 0) return;
    --found->second;
    if (shown++ < show) out.differences.push_back({table.name, "postgres", std::string(line)});
  });
  if (!listed) return listed.error();
  return {};
}

}  // namespace

std::string row_digest(std::string_view canonical_row) {
  thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  unsigned char digest[32];
  digest_of(context.get(), canonical_row, digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

row_sum::row_sum() : context_(EVP_MD_CTX_new()) {
  if (!context_) throw std::bad_alloc();
}

row_sum::row_sum(row_sum&& other) noexcept : context_(other.context_), lanes_(other.lanes_), rows_(other.rows_) {
  other.context_ = nullptr;
}

row_sum& row_sum::operator=(row_sum&& other) noexcept {
  std::swap(context_, other.context_);
  lanes_ = other.lanes_;
  rows_ = other.rows_;
  return *this;
}

row_sum::~row_sum() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_)); }

void row_sum::add(std::string_view canonical_row) {
  unsigned char digest[32];
  digest_of(static_cast<EVP_MD_CTX*>(context_), canonical_row, digest);
  for (int i = 0; i < 4; ++i) {
    std::uint64_t lane = 0;
    std::memcpy(&lane, digest + 8 * i, 8);
    lanes_[i] += lane;
  }
  ++rows_;
}

std::string row_sum::hex() const {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = std::to_string(rows_) + ":";
  for (auto lane : lanes_) {
    for (int b = 7; b >= 0; --b) {
      out += hex[lane >> (8 * b + 4) & 15];
      out += hex[lane >> (8 * b) & 15];
    }
  }
  return out;
}

void append_canonical_row(const table_def& table, const std::vector<value>& values, std::size_t offset,
                          std::string& out) {
  for (std::size_t c = 0; c < table.columns.size(); ++c) {
    const auto& column = table.columns[c];
    append_canonical(column.as_text ? pg_type{kind::text} : column.type, values[offset + c], out);
  }
}

pg::result<bool> verify_table(sqlite_source& db, pg::connection& pg, const std::string& schema, const table_def& table,
                              const row_sum* sqlite_side, std::string& checksum, report& out, std::size_t show) {
  row_sum read_again, pg_sum;
  std::future<std::string> reading;  // the SQLite side on its own thread while PostgreSQL's rows come
  if (!sqlite_side) {
    reading = std::async(std::launch::async,
                         [&] { return each_sqlite_row(db, table, [&](const std::string& c) { read_again.add(c); }); });
  }
  auto pg_rows = each_pg_row(pg, schema, table, [&](const std::string& c, std::string_view) { pg_sum.add(c); });
  const std::string error = reading.valid() ? reading.get() : "";
  if (!error.empty()) return pg::error{"58000", "reading " + table.name + " from SQLite: " + error, {}, {}, 0, {}};
  if (!pg_rows) return pg_rows.error();
  const row_sum& sqlite_sum = sqlite_side ? *sqlite_side : read_again;
  checksum = sqlite_sum.hex();
  if (sqlite_sum == pg_sum) return true;
  if (auto found = find_differences(db, pg, schema, table, out, show); !found) return found.error();
  return false;
}

}  // namespace monolite::move
