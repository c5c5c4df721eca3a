#include "cli/move_command.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <iostream>
#include <map>

#include "cli/command_support.hpp"
#include "cli/cutover.hpp"
#include "cli/options.hpp"
#include "cli/values.hpp"
#include "move/mover.hpp"

namespace monolite::cli {
namespace {

const std::vector<option_spec>& move_specs() {
  static const std::vector<option_spec> table = {
      {"db", "PATH", "the SQLite database (read in one snapshot; a server may keep writing it)", "./data/app.db"},
      {"to", "URL", "the PostgreSQL database, postgres://user@host:port/db", ""},
      {"schema", "NAME", "the target schema (created when missing)", "public"},
      {"on-mismatch", "fail|text", "a value that does not fit its column's type: fail, or map the column to text",
       "fail"},
      {"jobs", "N", "connections that build the indexes in parallel", "2"},
      {"verify-only", "", "only compare the target with the SQLite database", "false", true},
      {"replace", "", "drop the target's tables of the same names in the final transaction", "false", true},
      {"json", "", "print one JSON summary on stdout", "false", true},
      {"cutover", "", "switch the server at --url to read-only first; back again if the move fails", "false", true},
      {"url", "URL", "with --cutover: the running server, http://host:port", "http://127.0.0.1:8080"},
      {"token", "TOKEN", "with --cutover: an admin token (prefer MONOLITE_TOKEN: flags show in ps)", ""},
  };
  return table;
}

constexpr const char* exit_codes =
    "\nExit codes: 0 moved and verified; 1 verification failed or values do not fit (nothing written);\n"
    "2 usage; 3 connection or other error. The target schema changes in one transaction at the end,\n"
    "or not at all.\n";

void print_text(const move::move_outcome& outcome) {
  const auto& r = outcome.summary;
  for (const auto& t : r.tables) {
    std::cout << "table " << t.name << ": " << t.rows << " rows, " << size_text(t.bytes) << ", " << t.seconds
              << " s, checksum " << t.checksum << "\n";
  }
  for (const auto& m : r.mismatches) {
    std::cout << "mismatch " << m.table << " " << m.key << " column " << m.column << " value " << m.value << ": "
              << m.reason << "\n";
  }
  if (r.mismatch_count > static_cast<std::int64_t>(r.mismatches.size())) {
    std::cout << "... " << r.mismatch_count - r.mismatches.size() << " more mismatches\n";
  }
  for (const auto& c : r.columns_as_text)
    std::cout << "as text: " << c << "\n";
  for (const auto& u : r.untranslated_objects)
    std::cout << "not translated " << u.kind << " " << u.name << ": " << u.reason << "\n";
  for (const auto& d : r.differences)
    std::cout << "differs " << d.table << " only in " << d.side << ": " << d.row << "\n";
  if (r.verified) std::cout << "verify: " << (r.verify_ok ? "ok" : "FAILED") << "\n";
}

int move_and_report(const move::move_options& options, bool json) {
  auto outcome = move::run_move(options);
  if (json) {
    auto summary = outcome.summary.to_json();
    summary.as_object()["exit_code"] = outcome.exit_code;
    summary.as_object()["error"] = outcome.error;
    std::cout << boost::json::serialize(summary) << "\n";
  } else {
    print_text(outcome);
  }
  if (!outcome.error.empty()) std::cerr << "monolite: move: " << outcome.error << "\n";
  return outcome.exit_code;
}

usage_result<std::map<std::string, bool>> parse_switches(const option_values& values,
                                                         std::initializer_list<const char*> names) {
  std::map<std::string, bool> out;
  for (const char* name : names) {
    auto on = parse_bool(values.at(name), name);
    if (!on) return on.error();
    out[name] = *on;
  }
  return out;
}

// The URL with its password (user:password@) replaced, for printing.
std::string redacted_url(const std::string& url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  const auto colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

}  // namespace

int run_move(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << usage_text("move", "Copies a SQLite database into PostgreSQL and verifies the copy.", move_specs())
              << exit_codes;
    return 0;
  }
  auto v = resolve_options(move_specs(), args);
  if (!v) return usage_failure(v.error().message);
  if (v->at("to").empty()) return usage_failure("move needs --to postgres://...");
  const std::string& on_mismatch = v->at("on-mismatch");
  if (on_mismatch != "fail" && on_mismatch != "text") return usage_failure("--on-mismatch is fail or text");
  move::move_options options;
  options.db_path = v->at("db");
  options.url = v->at("to");
  options.schema = v->at("schema");
  options.mismatch_as_text = on_mismatch == "text";
  auto jobs = parse_number<int>(v->at("jobs"), "jobs", 1, 64);
  if (!jobs) return usage_failure(jobs.error().message);
  options.jobs = *jobs;
  auto switches = parse_switches(*v, {"verify-only", "replace", "json", "cutover"});
  if (!switches) return usage_failure(switches.error().message);
  options.verify_only = switches->at("verify-only");
  options.replace = switches->at("replace");
  options.progress = isatty(STDERR_FILENO);
  const bool json = switches->at("json");
  if (!switches->at("cutover")) return move_and_report(options, json);
  if (options.verify_only) return usage_failure("--cutover moves the data: it does not go with --verify-only");
  auto server = parse_server_url(v->at("url"));
  if (!server) return usage_failure(server.error().message);
  const cutover_options cutover{*server, v->at("token"), redacted_url(options.url)};
  return run_cutover(cutover, [&] { return move_and_report(options, json); });
}

}  // namespace monolite::cli
