#include "cli/move_command.hpp"

#include <unistd.h>

#include <boost/json.hpp>
#include <iostream>

#include "cli/command_support.hpp"
#include "cli/options.hpp"
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
  try {
    options.jobs = std::stoi(v->at("jobs"));
  } catch (const std::exception&) {
    return usage_failure("--jobs takes a number");
  }
  if (options.jobs < 1 || options.jobs > 64) return usage_failure("--jobs is between 1 and 64");
  options.verify_only = v->at("verify-only") == "true";
  options.replace = v->at("replace") == "true";
  options.progress = isatty(STDERR_FILENO);
  auto outcome = move::run_move(options);
  if (v->at("json") == "true") {
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

}  // namespace monolite::cli
