// Who may call which route: the access check the router runs first, and --auth reloads.
#pragma once
#include "server/server_context.hpp"

namespace monolite::server {

// Checks the Authorization header against ctx.auth for every route that needs a role.
void install_access_check(server_context& ctx);
// Re-reads --auth; on failure keeps the current configuration. Logs the outcome, never a secret.
void reload_auth(server_context& ctx);

}  // namespace monolite::server
