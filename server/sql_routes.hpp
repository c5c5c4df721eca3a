// The /sql/query, /sql/execute and /sql/batch routes.
#pragma once
#include "server/server_context.hpp"

namespace monolite::server {

void add_sql_routes(server_context& ctx);

}  // namespace monolite::server
