#include "cli/portability_command.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <iostream>

#include "cli/command_support.hpp"
#include "cli/options.hpp"
#include "cli/values.hpp"
#include "move/portability.hpp"

namespace monolite::cli {
namespace {

const std::vector<option_spec>& portability_specs() {
  static const std::vector<option_spec> table = {
      {"statements", "FILE", "the statement log written by serve --statement-log", ""},
      {"to", "URL", "the PostgreSQL database the data was moved to (postgres://user@host:port/db)", ""},
      {"schema", "NAME", "the schema holding the moved tables", "public"},
      {"json", "", "print the report as one JSON object", "false", true},
  };
  return table;
}

constexpr std::size_t shown_sql = 160;  // characters of a statement in the text report

std::string shortened(const std::string& sql) {
  std::string out;
  for (const char c : sql)
    if (!(c == '\n' || c == '\r' || c == '\t') || (!out.empty() && out.back() != ' ')) out += c == '\n' ? ' ' : c;
  return out.size() > shown_sql ? out.substr(0, shown_sql) + "…" : out;
}

void print_text(const move::portability_report& report, const std::string& schema) {
  std::cout << "Checked " << report.checks.size() << " statements against schema " << schema << ": "
            << report.checks.size() - report.failed << " run as they are, " << report.failed << " need changes.\n";
  std::size_t shown = 0;
  for (const auto& check : report.checks) {
    if (check.passed) continue;
    std::cout << "\n" << ++shown << ". " << check.statement.count << "×  " << shortened(check.statement.sql) << "\n";
    if (check.sqlstate.empty())
      std::cout << "   problem: " << check.problem << "\n";
    else
      std::cout << "   PostgreSQL: " << check.problem << " [" << check.sqlstate << "]\n";
    for (const auto& ism : check.instead)
      std::cout << "   instead of " << ism.found << ": " << ism.instead << "\n";
  }
}

boost::json::object check_json(const move::statement_check& check) {
  boost::json::array instead;
  for (const auto& ism : check.instead)
    instead.push_back(boost::json::object{{"found", ism.found}, {"instead", ism.instead}});
  return {{"sql", check.statement.sql},   {"count", check.statement.count}, {"last_seen", check.statement.last_seen},
          {"passed", check.passed},       {"problem", check.problem},       {"sqlstate", check.sqlstate},
          {"instead", std::move(instead)}};
}

void print_json(const move::portability_report& report) {
  boost::json::array checks;
  for (const auto& check : report.checks)
    checks.push_back(check_json(check));
  std::cout << boost::json::serialize(boost::json::object{
                   {"statements", report.checks.size()}, {"failed", report.failed}, {"checks", std::move(checks)}})
            << "\n";
}

}  // namespace

int run_portability(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << usage_text("portability",
                            "Prepares every statement of a statement log in PostgreSQL (in a transaction that is "
                            "rolled back) and reports those that fail, with what to write instead.\n"
                            "Exit codes: 0 all run there, 1 some need changes, 2 usage, 3 unreadable log or "
                            "unreachable PostgreSQL.",
                            portability_specs());
    return 0;
  }
  auto v = resolve_options(portability_specs(), args);
  if (!v) return usage_failure(v.error().message);
  auto json = parse_bool(v->at("json"), "json");
  if (!json) return usage_failure(json.error().message);
  if (v->at("statements").empty() || v->at("to").empty())
    return usage_failure("portability needs --statements FILE and --to URL");
  auto statements = move::read_statement_log(v->at("statements"));
  if (!statements) {
    std::cerr << "monolite: " << statements.error() << "\n";
    return 3;
  }
  auto target = pg::connection::open(v->at("to"));
  if (!target) {
    std::cerr << "monolite: cannot connect to PostgreSQL: " << target.error().describe() << "\n";
    return 3;
  }
  auto report = move::check_portability(*target, std::move(*statements), v->at("schema"));
  if (!report) {
    std::cerr << "monolite: the check broke off: " << report.error().describe() << "\n";
    return 3;
  }
  *json ? print_json(*report) : print_text(*report, v->at("schema"));
  return report->failed == 0 ? 0 : 1;
}

}  // namespace monolite::cli
