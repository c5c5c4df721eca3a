// `monolite serve`: its option table, the settings parsed and checked from it (exit 2 naming the
// flag), and the subcommand itself.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "cli/options.hpp"
#include "server/settings.hpp"

namespace monolite::cli {

std::span<const option_spec> serve_option_specs();

// Exit-2 material: the message names the flag whose value is wrong.
usage_result<server::settings> load_serve_settings(const std::vector<std::string>& args);

int run_serve(const std::vector<std::string>& args);

}  // namespace monolite::cli
