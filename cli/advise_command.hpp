// monolite advise: reads GET /admin/status of a running server and says, one line per threshold,
// whether this one SQLite box is still enough. Exit 0 all ok, 1 any watch or plan the move,
// 2 usage, 3 the server cannot be reached or answers an error.
#pragma once
#include <string>
#include <vector>

namespace monolite::cli {

int run_advise(const std::vector<std::string>& args);

}  // namespace monolite::cli
