#include "cli/restore_command.hpp"

#include <boost/json/serialize.hpp>
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
      {"dry-run", "", "print the plan (generation, snapshot, segments, bytes) and download nothing", "false", true},
      {"json", "", "print the outcome as one JSON object on stdout", "false", true},
      replica_key_file_spec(),
  };
  return table;
}

void print_restore_report(const replica::restore_report& r, const std::string& output, double seconds) {
  std::cerr << "restored " << output << " from generation " << r.generation << ": index " << r.at.index << " frame "
            << r.at.frame << ", last commit " << rfc3339_time(r.time_ms) << ", " << r.segments << " WAL segments, "
            << size_text(r.db_bytes) << " database, " << size_text(r.bytes_downloaded) << " downloaded in " << seconds
            << " s; integrity_check ok\n";
}

std::uint64_t segment_bytes(const replica::restore_plan& plan) {
  std::uint64_t bytes = 0;
  for (const auto& s : plan.segments)
    bytes += s.size;
  return bytes;
}

void print_plan(const replica::restore_plan& plan) {
  std::cout << "generation " << plan.generation << "\nsnapshot   " << plan.snapshot.key << " ("
            << rfc3339_time(plan.snapshot.time_ms) << ", " << size_text(plan.snapshot.size) << ")\nsegments   "
            << plan.segments.size() << " (" << size_text(segment_bytes(plan)) << ")";
  if (!plan.segments.empty()) std::cout << ", up to " << rfc3339_time(plan.segments.back().last_time_ms);
  std::cout << "\ndownload   " << size_text(plan.snapshot.size + segment_bytes(plan)) << "\n";
}

const char* outcome_name(replica::restore_outcome o) {
  switch (o) {
    case replica::restore_outcome::restored: return "restored";
    case replica::restore_outcome::output_exists: return "output_exists";
    case replica::restore_outcome::replica_empty: return "replica_empty";
    case replica::restore_outcome::planned: return "planned";
  }
  return "unknown";
}

// One JSON object on stdout, for scripts: the outcome, the plan and, after a restore, what it did.
void print_json(const replica::restore_report& r, double seconds) {
  boost::json::object out{{"outcome", outcome_name(r.outcome)}};
  if (r.plan) {
    const auto& p = *r.plan;
    out["generation"] = p.generation;
    out["snapshot"] = {{"key", p.snapshot.key}, {"time", rfc3339_time(p.snapshot.time_ms)}, {"bytes", p.snapshot.size}};
    out["segments"] = {{"count", p.segments.size()}, {"bytes", segment_bytes(p)}};
    out["download_bytes"] = p.snapshot.size + segment_bytes(p);
  }
  if (r.outcome == replica::restore_outcome::restored) {
    out["restored"] = {{"index", r.at.index},
                       {"frame", r.at.frame},
                       {"last_commit", rfc3339_time(r.time_ms)},
                       {"segments_applied", r.segments},
                       {"database_bytes", r.db_bytes},
                       {"downloaded_bytes", r.bytes_downloaded},
                       {"seconds", seconds}};
  }
  std::cout << boost::json::serialize(out) << "\n";
}

int report_outcome(const replica::restore_report& r, const replica::restore_request& req, bool json, double seconds) {
  if (json) print_json(r, seconds);
  if (r.outcome == replica::restore_outcome::output_exists)
    std::cerr << req.output << " exists; nothing to do (--if-db-not-exists)\n";
  else if (r.outcome == replica::restore_outcome::replica_empty)
    std::cerr << "the replica holds nothing; nothing to do (--if-replica-exists)\n";
  else if (r.outcome == replica::restore_outcome::planned && !json)
    print_plan(*r.plan);
  else if (r.outcome == replica::restore_outcome::restored)
    print_restore_report(r, req.output, seconds);
  return 0;
}

usage_result<void> read_switch(const option_values& v, const char* name, bool& out) {
  auto on = parse_bool(v.at(name), name);
  if (!on) return on.error();
  out = *on;
  return {};
}

// The request the flags describe; exit-2 material otherwise.
usage_result<replica::restore_request> request_from(const option_values& v) {
  replica::restore_request req;
  req.output = v.at("output");
  for (auto ok : {read_switch(v, "if-db-not-exists", req.if_db_not_exists),
                  read_switch(v, "if-replica-exists", req.if_replica_exists), read_switch(v, "dry-run", req.dry_run)})
    if (!ok) return ok.error();
  if (req.output.empty() && !req.dry_run) return usage_error{"restore needs -o PATH"};
  if (v.at("replica").empty()) return usage_error{"restore needs --replica URL"};
  if (!v.at("timestamp").empty()) {
    req.timestamp_ms = replica::layout::parse_rfc3339(v.at("timestamp"));
    if (!req.timestamp_ms)
      return usage_error{"--timestamp: '" + v.at("timestamp") +
                         "' is not an RFC 3339 time such as 2026-11-22T03:04:05Z"};
  }
  req.generation = v.at("generation");
  auto parallelism = parse_number<unsigned>(v.at("parallelism"), "parallelism", 1, 64);
  if (!parallelism) return parallelism.error();
  req.parallelism = *parallelism;
  auto retry_timeout = parse_duration(v.at("retry-timeout"), "retry-timeout");
  if (!retry_timeout) return retry_timeout.error();
  req.retry.give_up_after = *retry_timeout;
  req.progress = [](const std::string& line) { std::cerr << line << "\n"; };
  return req;
}

}  // namespace

int run_restore(const std::vector<std::string>& raw_args) {
  if (wants_help(raw_args)) {
    std::cout << usage_text("restore", "Rebuilds a database from a replica (docs/replication.md).", restore_specs());
    return 0;
  }
  auto v = resolve_options(restore_specs(), expand_short_flags(raw_args));
  if (!v) return usage_failure(v.error().message);
  auto req = request_from(*v);
  if (!req) return usage_failure(req.error().message);
  auto json = parse_bool(v->at("json"), "json");
  if (!json) return usage_failure(json.error().message);
  auto keys = load_replica_keys(*v);
  if (!keys) return usage_failure(keys.error().message);
  auto store = open_or_report(v->at("replica"), *keys);
  if (!store) return 1;
  const auto started = std::chrono::steady_clock::now();
  auto done = replica::restore(*store, *req);
  if (!done) {
    std::cerr << "monolite: restore failed: " << done.error().message << "\n";
    return 1;
  }
  return report_outcome(*done, *req, *json,
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace monolite::cli
