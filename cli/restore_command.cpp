#include "cli/restore_command.hpp"

#include <chrono>
#include <iostream>

#include "cli/command_support.hpp"
#include "cli/options.hpp"
#include "cli/values.hpp"
#include "replica/format/layout.hpp"
#include "replica/restore.hpp"

namespace monolite::cli {
namespace {
using replica::layout::rfc3339_time;

// "-o PATH" is the short spelling of --output.
std::vector<std::string> expand_short_flags(std::vector<std::string> args) {
  for (auto& a : args)
    if (a == "-o") a = "--output";
  return args;
}

const std::vector<option_spec>& restore_specs() {
  static const std::vector<option_spec> table = {
      {"output", "PATH", "where to write the database (-o); never overwritten", ""},
      {"replica", "URL", "the replica to restore from (file:///path or s3://bucket/prefix?...)", ""},
      {"timestamp", "RFC3339", "the newest state committed at or before this time (default: the newest)", ""},
      {"generation", "ID", "restore from this generation (default: the one covering the time)", ""},
      {"if-db-not-exists", "", "exit 0 without work when the output file already exists", "false", true},
      {"if-replica-exists", "", "exit 0 without work when the replica holds nothing", "false", true},
      {"parallelism", "N", "objects downloaded at once", "8"},
      {"retry-timeout", "DURATION", "how long one object's transient failures (5xx, resets, timeouts) are retried",
       "2m"},
  };
  return table;
}

void print_restore_report(const replica::restore_report& r, const std::string& output, double seconds) {
  std::cerr << "restored " << output << " from generation " << r.generation << ": index " << r.at.index << " frame "
            << r.at.frame << ", last commit " << rfc3339_time(r.time_ms) << ", " << r.segments << " WAL segments, "
            << size_text(r.db_bytes) << " database, " << size_text(r.bytes_downloaded) << " downloaded in " << seconds
            << " s; integrity_check ok\n";
}

}  // namespace

int run_restore(const std::vector<std::string>& raw_args) {
  if (wants_help(raw_args)) {
    std::cout << usage_text("restore", "Rebuilds a database from a replica (docs/replication.md).", restore_specs());
    return 0;
  }
  auto v = resolve_options(restore_specs(), expand_short_flags(raw_args));
  if (!v) return usage_failure(v.error().message);
  replica::restore_request req;
  req.output = v->at("output");
  if (req.output.empty()) return usage_failure("restore needs -o PATH");
  if (v->at("replica").empty()) return usage_failure("restore needs --replica URL");
  if (!v->at("timestamp").empty()) {
    req.timestamp_ms = replica::layout::parse_rfc3339(v->at("timestamp"));
    if (!req.timestamp_ms)
      return usage_failure("--timestamp: '" + v->at("timestamp") +
                           "' is not an RFC 3339 time such as 2026-11-22T03:04:05Z");
  }
  req.generation = v->at("generation");
  auto if_db_not_exists = parse_bool(v->at("if-db-not-exists"), "if-db-not-exists");
  auto if_replica_exists = parse_bool(v->at("if-replica-exists"), "if-replica-exists");
  auto parallelism = parse_number<unsigned>(v->at("parallelism"), "parallelism", 1, 64);
  if (!if_db_not_exists) return usage_failure(if_db_not_exists.error().message);
  if (!if_replica_exists) return usage_failure(if_replica_exists.error().message);
  if (!parallelism) return usage_failure(parallelism.error().message);
  auto retry_timeout = parse_duration(v->at("retry-timeout"), "retry-timeout");
  if (!retry_timeout) return usage_failure(retry_timeout.error().message);
  req.retry.give_up_after = *retry_timeout;
  req.if_db_not_exists = *if_db_not_exists;
  req.if_replica_exists = *if_replica_exists;
  req.parallelism = *parallelism;
  req.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  auto store = open_or_report(v->at("replica"));
  if (!store) return 1;
  const auto started = std::chrono::steady_clock::now();
  auto done = replica::restore(*store, req);
  if (!done) {
    std::cerr << "monolite: restore failed: " << done.error().message << "\n";
    return 1;
  }
  if (done->outcome == replica::restore_outcome::output_exists)
    std::cerr << req.output << " exists; nothing to do (--if-db-not-exists)\n";
  else if (done->outcome == replica::restore_outcome::replica_empty)
    std::cerr << "the replica holds nothing; nothing to do (--if-replica-exists)\n";
  else
    print_restore_report(*done, req.output,
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return 0;
}

}  // namespace monolite::cli
