// `monolite verify`: checks that a replica restores to exactly the live database.
#pragma once
#include <string>
#include <vector>

namespace monolite::cli {

int run_verify(const std::vector<std::string>& args);

}  // namespace monolite::cli
