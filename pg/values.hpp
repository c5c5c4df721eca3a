// API values to and from PostgreSQL: parameters as PQsendQueryParams takes them, and result values
// from the text PQgetvalue gives (PQfformat 0). Pure: no libpq; the type oids are PostgreSQL's fixed
// catalog oids (pg_type.dat), the same in every database.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.hpp"
#include "proto/value.hpp"

namespace monolite::pg {

using oid = unsigned int;  // libpq's Oid

namespace type_oid {
inline constexpr oid unknown = 0;  // a parameter of this type takes the type its context needs
inline constexpr oid boolean = 16;
inline constexpr oid bytea = 17;
inline constexpr oid int8 = 20;
inline constexpr oid int2 = 21;
inline constexpr oid int4 = 23;
inline constexpr oid text = 25;
inline constexpr oid oid_ = 26;
inline constexpr oid float4 = 700;
inline constexpr oid float8 = 701;
inline constexpr oid numeric = 1700;
}  // namespace type_oid

// The parameter arrays of PQsendQueryParams for $1..$n:
//   int64 → int8 as decimal text; double → float8 as the shortest text that reads back to the same
//   double ('Infinity', '-Infinity', 'NaN' for the others); bool → bool 't'/'f'; blob → bytea in
//   binary format; null → a null pointer; text → type unknown (0), so PostgreSQL reads it as the
//   context needs and a string works for timestamp, uuid, jsonb or numeric columns.
// Texts and blobs point into the values, which must outlive the list; numbers' texts live in it.
class param_list {
 public:
  // Fails with BAD_PARAMS for text holding a NUL byte: libpq's text format ends a value at the first
  // NUL, and no PostgreSQL text type can hold one.
  static proto::result<param_list> from(const std::vector<const proto::value*>& values);

  param_list(param_list&&) = default;
  param_list& operator=(param_list&&) = default;
  // A copy would point into the original's texts.
  param_list(const param_list&) = delete;
  param_list& operator=(const param_list&) = delete;

  int size() const { return static_cast<int>(types_.size()); }
  const oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  param_list() = default;
  proto::result<void> add(const proto::value& v);

  std::vector<oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::string> number_texts_;  // reserved up front: values_ points into these strings
};

// A result value from its text, by the column's type oid (PQftype); the caller turns NULL
// (PQgetisnull) into std::monostate.
//   int2, int4, int8, oid → int64 (exact); float4, float8 → double, with 'Infinity' and '-Infinity'
//   as infinities (JSON null, Hrana 1e999, as SQLite's) and 'NaN' as null (SQLite has no NaN: it
//   stores NULL); numeric → its text (exact: a double would round it); bool → bool; bytea → blob
//   (hex format, PostgreSQL's default bytea_output); every other type → its text as PostgreSQL
//   prints it: the engine sets DateStyle=ISO and TimeZone=UTC on each connection, so timestamps
//   read "2024-01-02 03:04:05+00" (ISO 8601) whatever the server's settings.
// Fails (500 INTERNAL) only on text PostgreSQL does not print for that type.
proto::result<proto::value> value_from_text(oid type, std::string_view text);

// PostgreSQL's name of a column's type ("int8", "text", "timestamptz", …), to report where SQLite
// reports a declared type; "" for a type outside the built-in table (user-defined types, most arrays).
std::string_view type_name(oid type);

}  // namespace monolite::pg
