#include "cli/command_support.hpp"

#include <cstdio>
#include <iostream>

namespace monolite::cli {

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

int usage_failure(const std::string& message) {
  std::cerr << "monolite: " << message << "\nRun 'monolite --help' for usage.\n";
  return 2;
}

std::unique_ptr<replica::object_store> open_or_report(const std::string& url) {
  auto store = replica::open_store(url);
  if (store) return std::move(*store);
  std::cerr << "monolite: --replica " << url << ": " << store.error().message << "\n";
  return nullptr;
}

std::string size_text(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", double(bytes) / 1048576.0);
  return buf;
}

}  // namespace monolite::cli
