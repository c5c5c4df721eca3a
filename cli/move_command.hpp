// `monolite move`: copies a SQLite database into PostgreSQL in one command and verifies it.
#pragma once
#include <string>
#include <vector>

namespace monolite::cli {

int run_move(const std::vector<std::string>& args);

}  // namespace monolite::cli
