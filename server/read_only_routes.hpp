// Read-only mode for a cut-over: GET and POST /admin/read-only (admin), and --read-only at start.
#pragma once
#include "server/server_context.hpp"

namespace monolite::server {

void add_read_only_routes(server_context& ctx);
// --read-only: the writer refuses writes from the first request on (called before serving).
void start_read_only(server_context& ctx);

}  // namespace monolite::server
