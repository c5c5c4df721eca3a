// `monolite portability`: will the statements this server ran work in PostgreSQL? Prepares each
// statement of a --statement-log file against the moved schema and reports those that fail.
#pragma once
#include <string>
#include <vector>

namespace monolite::cli {

// Exit codes: 0 every statement runs there, 1 some need changes, 2 usage, 3 the log cannot be read
// or PostgreSQL cannot be reached.
int run_portability(const std::vector<std::string>& args);

}  // namespace monolite::cli
