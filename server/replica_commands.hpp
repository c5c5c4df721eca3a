// The replica subcommands: restore, generations, snapshots, verify.
#pragma once
#include <string>
#include <vector>

namespace monolite::cli {

int run_restore(const std::vector<std::string>& args);
int run_generations(const std::vector<std::string>& args);
int run_snapshots(const std::vector<std::string>& args);
int run_verify(const std::vector<std::string>& args);

// Shared by the subcommands: "monolite: <message>" on stderr, exit 2.
int usage_failure(const std::string& message);

}  // namespace monolite::cli
