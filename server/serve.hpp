// `monolite serve`: opens the database, starts the actors and the HTTP server, and runs until
// SIGTERM/SIGINT, then shuts down gracefully. Returns the process exit code.
#pragma once
#include "server/settings.hpp"

namespace monolite::server {

int serve(const server::settings& settings);

}  // namespace monolite::server
