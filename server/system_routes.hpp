// /healthz, /readyz and /metrics.
#pragma once
#include "server/server_context.hpp"

namespace monolite::server {

void add_system_routes(server_context& ctx);

}  // namespace monolite::server
