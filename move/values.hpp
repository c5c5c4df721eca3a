// How values travel and how both sides are compared: the COPY text field of a SQLite value, and
// one canonical typed encoding computed from a SQLite value or from PostgreSQL's text output of
// the same column type. Pure: no I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "move/types.hpp"

namespace monolite::move {

// Appends the COPY text-format field (no delimiter) of `v` for a column of `type`.
void append_copy_field(const pg_type& type, const value& v, std::string& out);

// Backslash escapes of COPY's text format: \\ \t \n \r.
void append_copy_escaped(std::string_view text, std::string& out);
// Undoes COPY's text escapes of one field (\N is handled by the caller).
std::string copy_unescaped(std::string_view field);

// The text a non-text value gets in a column mapped to text (--on-mismatch text): 42, 1.5,
// the text itself, \x00ff for blobs.
std::string as_text(const value& v);

// Shortest decimal that reads back as the same double; "Infinity", "-Infinity", "NaN".
std::string shortest_double(double d);
// "-0012.500" → "-12.5", "1e3" → "1000", "-0" → "0"; nullopt when not a decimal number.
std::optional<std::string> canonical_decimal(std::string_view text);
// "YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]]" (or a date alone) → microseconds since 1970; nullopt if not one.
std::optional<std::int64_t> timestamp_micros(std::string_view text, bool date_only);
// JSON re-serialised with object keys sorted (last duplicate wins) and integral numbers as integers.
std::optional<std::string> canonical_json(std::string_view text);

// The canonical encoding (tag + payload) of a SQLite value in a column of `type`.
void append_canonical(const pg_type& type, const value& v, std::string& out);
// The same encoding from PostgreSQL's text output (nullopt = NULL) for a column of `type`.
void append_canonical_pg(const pg_type& type, const std::optional<std::string_view>& text, std::string& out);

}  // namespace monolite::move
