#include "cli/verify_command.hpp"

#include <iostream>

#include "cli/command_support.hpp"
#include "cli/options.hpp"
#include "cli/values.hpp"
#include "replica/verify.hpp"

namespace monolite::cli {
namespace {

const std::vector<option_spec>& verify_specs() {
  static const std::vector<option_spec> table = {
      {"replica", "URL", "the replica to check", ""},
      {"db", "PATH", "the live database (the server may keep running)", "./data/app.db"},
      {"wait", "DURATION", "how long to wait for the replica to catch up with the live database", "30s"},
      replica_key_file_spec(),
  };
  return table;
}

}  // namespace

int run_verify(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << usage_text("verify", "Checks that a replica restores to exactly the live database.", verify_specs());
    return 0;
  }
  auto v = resolve_options(verify_specs(), args);
  if (!v) return usage_failure(v.error().message);
  if (v->at("replica").empty()) return usage_failure("verify needs --replica URL");
  auto wait = parse_duration(v->at("wait"), "wait");
  if (!wait) return usage_failure(wait.error().message);
  auto keys = load_replica_keys(*v);
  if (!keys) return usage_failure(keys.error().message);
  auto store = open_or_report(v->at("replica"), *keys);
  if (!store) return 1;
  replica::verify_options options;
  options.wait = *wait;
  auto report = replica::verify_live(*store, v->at("db"), options);
  if (!report) {
    std::cerr << "monolite: verify failed: " << report.error().message << "\n";
    return 1;
  }
  std::cout << (report->same() ? "ok" : "MISMATCH") << ": generation " << report->generation << " index "
            << report->at.index << " frame " << report->at.frame << "\n  live    sha256 " << report->live.sha256
            << "\n  replica sha256 " << report->replica.sha256 << "\n";
  if (!report->same()) std::cout << "  " << replica::describe_difference(*report) << "\n";
  return report->same() ? 0 : 1;
}

}  // namespace monolite::cli
