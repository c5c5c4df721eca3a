// Quoting for SQL text built by the client: identifiers and string literals.
#pragma once
#include <string>
#include <string_view>

namespace monolite::pg {

// "name" with inner quotes doubled.
std::string quote_ident(std::string_view name);
// 'text' with inner quotes doubled (standard_conforming_strings is on since 9.1).
std::string quote_literal(std::string_view text);
// schema.name, both quoted.
std::string qualified(std::string_view schema, std::string_view name);

}  // namespace monolite::pg
