// `monolite restore`: rebuilds a database from a replica (docs/replication.md).
#pragma once
#include <string>
#include <vector>

namespace monolite::cli {

int run_restore(const std::vector<std::string>& args);

}  // namespace monolite::cli
