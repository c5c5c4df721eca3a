// What every subcommand shares: --help detection, the exit-2 usage message, opening a replica
// named on the command line, and sizes for people.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "replica/object_store.hpp"

namespace monolite::cli {

bool wants_help(const std::vector<std::string>& args);

// "monolite: <message>" on stderr; returns 2, the exit code for bad usage.
int usage_failure(const std::string& message);

// The store behind a --replica URL, or null after saying on stderr why it cannot be opened.
std::unique_ptr<replica::object_store> open_or_report(const std::string& url);

// "12.3 MB"
std::string size_text(std::uint64_t bytes);

}  // namespace monolite::cli
