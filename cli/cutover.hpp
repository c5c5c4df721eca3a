// `monolite move --cutover --url http://…`: the move as one step of a cut-over that loses no write.
// The server is switched read-only first (its answer comes once every acknowledged write has
// committed), so the snapshot the move reads holds every write a client was told about; reads go
// on meanwhile. After a verified move the server stays read-only (writes now belong to
// PostgreSQL); after a failed one it is switched back, so the application keeps working.
#pragma once
#include <chrono>
#include <functional>
#include <string>

#include "cli/server_client.hpp"

namespace monolite::cli {

struct cutover_options {
  replica::s3_endpoint server;
  std::string token;                         // admin
  std::string target_url;                    // printed at the end: where the application should point now
  std::chrono::milliseconds timeout{60000};  // for the switch: it waits for open write transactions
};

// Runs `move` (returning the move's exit code) between the two switches. Exit codes as the move's;
// 3 when the server cannot be switched (then nothing was moved).
int run_cutover(const cutover_options& options, const std::function<int()>& move);

}  // namespace monolite::cli
