// `monolite generations` and `monolite snapshots`: what a replica holds, as tables for people.
#pragma once
#include <string>
#include <vector>

namespace monolite::cli {

int run_generations(const std::vector<std::string>& args);
int run_snapshots(const std::vector<std::string>& args);

}  // namespace monolite::cli
