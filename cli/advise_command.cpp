#include "cli/advise_command.hpp"

#include <boost/json/serialize.hpp>
#include <cstdio>
#include <iostream>

#include "cli/command_support.hpp"
#include "cli/options.hpp"
#include "cli/server_client.hpp"
#include "cli/values.hpp"

namespace monolite::cli {
namespace {

constexpr int exit_ok = 0, exit_not_ok = 1, exit_unreachable = 3;  // usage_failure() returns 2

const std::vector<option_spec>& advise_specs() {
  static const std::vector<option_spec> table = {
      {"url", "URL", "the server, http://host:port or https://host:port", "http://127.0.0.1:8080"},
      {"token", "TOKEN", "an admin bearer token (prefer the environment variable: flags show in ps)", ""},
      {"json", "", "print the server's /admin/status JSON instead of the table", "false", true},
      {"timeout", "DURATION", "how long to wait for the server", "10s"},
  };
  return table;
}

// The status object, or why there is none.
boost::system::result<boost::json::object, std::string> fetch_status(const replica::s3_endpoint& endpoint,
                                                                     const std::string& token,
                                                                     std::chrono::milliseconds timeout) {
  auto status =
      call_server(endpoint, {.method = "GET", .path = "/admin/status", .body = "", .token = token, .timeout = timeout});
  if (status && !status->contains("verdicts"))
    return endpoint.url() + "/admin/status answered something that is not a status";
  return status;
}

std::string fixed(double value, const char* format) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// A verdict's value or threshold, in the unit its name says.
std::string shown(const std::string& name, double value) {
  if (name.ends_with("_seconds")) return fixed(value * 1000, "%.1f ms");
  if (name == "database_bytes") return fixed(value / (1024.0 * 1024 * 1024), "%.2f GiB");
  if (name == "client_addresses") return fixed(value, "%.0f");
  return fixed(value, "%.1f/s");
}

std::string label(const std::string& name) {
  if (name == "write_statements_per_second") return "write statements";
  if (name == "commits_per_second") return "group commits";
  if (name == "commit_p99_seconds") return "commit p99";
  if (name == "read_p99_seconds") return "read p99";
  if (name == "database_bytes") return "database size";
  if (name == "client_addresses") return "client addresses";
  return name;
}

std::string what_to_watch(const std::string& name) {
  if (name == "write_statements_per_second" || name == "commits_per_second")
    return "group writes into fewer, larger requests (/sql/batch) and watch the 1h window";
  if (name == "commit_p99_seconds") return "look for long write transactions and large batches; watch the 1h window";
  if (name == "read_p99_seconds") return "find the slow reads (monolite_long_reads_total, indexes, EXPLAIN)";
  if (name == "database_bytes") return "check retention of old rows and VACUUM; watch the growth per day";
  return "count the application servers that will connect; watch the 1h window";
}

std::string next_step(const std::string& name, const std::string& state) {
  if (state == "watch") return "watch: " + what_to_watch(name);
  return "plan the move: run `monolite move --db … --to postgres://…`, see docs/operations.md "
         "'When to move, and how'";
}

struct row {
  std::string name, value, threshold, headroom, state;
};

row row_of(const boost::json::value& verdict) {
  const auto& v = verdict.as_object();
  const std::string name(v.at("name").as_string());
  return {name, shown(name, v.at("value").to_number<double>()), shown(name, v.at("threshold").to_number<double>()),
          fixed(v.at("headroom").to_number<double>() * 100, "%.0f%%"), std::string(v.at("state").as_string())};
}

std::string padded(std::string text, std::size_t width) {
  text.resize(std::max(text.size() + 1, width), ' ');
  return text;
}

// The table, and one next step under it for each line that is not ok. Returns whether all are ok.
bool print_table(const boost::json::object& status) {
  std::vector<row> rows;
  for (const auto& verdict : status.at("verdicts").as_array())
    rows.push_back(row_of(verdict));
  std::cout << "over the last " << fixed(status.at("verdict_window_seconds").to_number<double>(), "%.0f")
            << " s (database size: now)\n";
  std::cout << padded("THRESHOLD", 20) << padded("VALUE", 14) << padded("LIMIT", 14) << padded("HEADROOM", 10)
            << "STATE\n";
  bool all_ok = true;
  for (const auto& r : rows) {
    std::cout << padded(label(r.name), 20) << padded(r.value, 14) << padded(r.threshold, 14) << padded(r.headroom, 10)
              << r.state << "\n";
    all_ok = all_ok && r.state == "ok";
  }
  for (const auto& r : rows)
    if (r.state != "ok") std::cout << label(r.name) << ": " << next_step(r.name, r.state) << "\n";
  return all_ok;
}

bool all_ok(const boost::json::object& status) {
  for (const auto& verdict : status.at("verdicts").as_array())
    if (verdict.at("state").as_string() != "ok") return false;
  return true;
}

}  // namespace

int run_advise(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << usage_text("advise", "Says from a running server's numbers whether to move off SQLite.",
                            advise_specs());
    std::cout << "Exit status: 0 all ok, 1 any watch or plan the move, 2 usage, 3 server unreachable or error.\n";
    return exit_ok;
  }
  auto v = resolve_options(advise_specs(), args);
  if (!v) return usage_failure(v.error().message);
  auto endpoint = parse_server_url(v->at("url"));
  if (!endpoint) return usage_failure(endpoint.error().message);
  auto json = parse_bool(v->at("json"), "json");
  if (!json) return usage_failure(json.error().message);
  auto timeout = parse_duration(v->at("timeout"), "timeout");
  if (!timeout) return usage_failure(timeout.error().message);
  auto status = fetch_status(*endpoint, v->at("token"), *timeout);
  if (!status) {
    std::cerr << "monolite: advise: " << status.error() << "\n";
    return exit_unreachable;
  }
  try {
    if (*json) {
      std::cout << boost::json::serialize(*status) << "\n";
      return all_ok(*status) ? exit_ok : exit_not_ok;
    }
    return print_table(*status) ? exit_ok : exit_not_ok;
  } catch (const std::exception& e) {  // a field missing or of another type: not a status we know
    std::cerr << "monolite: advise: the status of " << endpoint->url() << " is not as expected: " << e.what() << "\n";
    return exit_unreachable;
  }
}

}  // namespace monolite::cli
