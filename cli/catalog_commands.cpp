#include "cli/catalog_commands.hpp"

#include <cstdio>
#include <functional>
#include <iostream>

#include "cli/command_support.hpp"
#include "cli/options.hpp"
#include "replica/format/layout.hpp"
#include "replica/resume.hpp"

namespace monolite::cli {
namespace {
using replica::layout::rfc3339_time;

const std::vector<option_spec>& list_specs() {
  static const std::vector<option_spec> table = {{"replica", "URL", "the replica to list", ""}};
  return table;
}

// Shared by generations/snapshots: parses --replica, lists the catalog.
int with_catalog(const std::vector<std::string>& args, const char* command, const char* summary,
                 const std::function<void(const std::vector<replica::layout::generation>&)>& print) {
  if (wants_help(args)) {
    std::cout << usage_text(command, summary, list_specs());
    return 0;
  }
  auto v = resolve_options(list_specs(), args);
  if (!v) return usage_failure(v.error().message);
  if (v->at("replica").empty()) return usage_failure(std::string(command) + " needs --replica URL");
  auto store = open_or_report(v->at("replica"), {});  // listing reads no object: no key needed
  if (!store) return 1;
  auto catalog = replica::read_catalog(*store);
  if (!catalog) {
    std::cerr << "monolite: cannot list " << store->describe() << ": " << catalog.error().message << "\n";
    return 1;
  }
  print(*catalog);
  return 0;
}
}  // namespace

int run_generations(const std::vector<std::string>& args) {
  return with_catalog(args, "generations", "Lists the generations a replica holds.", [](const auto& catalog) {
    std::printf("%-26s %9s %9s %10s  %-24s  %s\n", "generation", "snapshots", "segments", "size", "first", "last");
    for (const auto& g : catalog) {
      const auto first = g.first_time_ms(), last = g.last_time_ms();
      std::printf("%-26s %9zu %9zu %10s  %-24s  %s\n", g.id.c_str(), g.snapshots.size(), g.segments.size(),
                  size_text(g.bytes).c_str(), first ? rfc3339_time(*first).c_str() : "-",
                  last ? rfc3339_time(*last).c_str() : "-");
    }
  });
}

int run_snapshots(const std::vector<std::string>& args) {
  return with_catalog(args, "snapshots", "Lists the snapshots a replica holds.", [](const auto& catalog) {
    std::printf("%-26s %8s %8s %10s  %s\n", "generation", "index", "frame", "size", "time");
    for (const auto& g : catalog)
      for (const auto& s : g.snapshots)
        std::printf("%-26s %8u %8u %10s  %s\n", g.id.c_str(), s.at.index, s.at.frame, size_text(s.size).c_str(),
                    rfc3339_time(s.time_ms).c_str());
  });
}

}  // namespace monolite::cli
