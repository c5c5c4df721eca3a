// SQLite declared types → PostgreSQL column types (by the declared name first, then SQLite's
// affinity rules), and the check that one stored value fits its target type. Pure: no I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace monolite::move {

enum class kind { integer, real, text, varchar, blob, numeric, boolean, timestamp, date, json };

struct pg_type {
  kind k = kind::blob;
  int length = 0;     // varchar(n)
  int precision = 0;  // numeric(p,s); 0 = unconstrained numeric
  int scale = 0;
  std::string sql() const;  // "bigint", "varchar(20)", "numeric(10,2)", ...
};

// "INTEGER", "varchar(20)", "DECIMAL(10, 2)", "" (no declared type: bytea), "STRING" (numeric affinity).
pg_type translate_type(std::string_view declared);

// One SQLite value as stored (sqlite3_value's storage class and payload).
struct value {
  enum class storage { null, integer, real, text, blob } type = storage::null;
  std::int64_t integer = 0;
  double real = 0;
  std::string_view bytes;  // text or blob

  static value null() { return {}; }
  static value of(std::int64_t v) { return {storage::integer, v, 0, {}}; }
  static value of_real(double v) { return {storage::real, 0, v, {}}; }
  static value text(std::string_view v) { return {storage::text, 0, 0, v}; }
  static value blob(std::string_view v) { return {storage::blob, 0, 0, v}; }
};

// Why `v` does not fit `type` ("text in a bigint column"), or nullopt when it does. NULL always fits.
std::optional<std::string> misfit(const pg_type& type, const value& v);

// A value for people (mismatch and difference reports): 42, 1.5, 'text', x'00ff', NULL; cut at 60 bytes.
std::string display(const value& v);

bool valid_utf8(std::string_view text);

}  // namespace monolite::move
