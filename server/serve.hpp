// `monolite serve`: opens the database, starts the actors and the HTTP server, and runs until
// SIGTERM/SIGINT, then shuts down gracefully. Returns the process exit code.
#pragma once
#include "server/config.hpp"

namespace monolite::server {

int serve(const cli::serve_settings& settings);

}  // namespace monolite::server
