// The schema cookie (PRAGMA schema_version, page 1 offset 40): a connection reloads its cached
// schema only when the cookie differs from the one it read. A libSQL replica keeps its connection
// across a new history of the primary, so that history must start above every cookie it served.
#pragma once
#include <cstdint>

#include "db/connection.hpp"

namespace monolite::db {

// Raises the database's schema cookie to `floor + 1` when it is not above `floor` already; true
// when it did. Opens a connection of its own: call it before the writer opens.
proto::result<bool> raise_schema_cookie(const connection_options& options, std::uint32_t floor);

}  // namespace monolite::db
