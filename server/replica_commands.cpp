#include "server/replica_commands.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "proto/replica_layout.hpp"
#include "replica/restore.hpp"
#include "replica/resume.hpp"
#include "server/config.hpp"

namespace monolite::cli {
namespace {
using proto::layout::rfc3339_time;

bool wants_help(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return true;
  return false;
}

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
  };
  return table;
}

const std::vector<option_spec>& list_specs() {
  static const std::vector<option_spec> table = {{"replica", "URL", "the replica to list", ""}};
  return table;
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

void print_restore_report(const replica::restore_report& r, const std::string& output, double seconds) {
  std::cerr << "restored " << output << " from generation " << r.generation << ": index " << r.at.index
            << " frame " << r.at.frame << ", last commit " << rfc3339_time(r.time_ms) << ", " << r.segments
            << " WAL segments, " << size_text(r.db_bytes) << " database, " << size_text(r.bytes_downloaded)
            << " downloaded in " << seconds << " s; integrity_check ok\n";
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
    req.timestamp_ms = proto::layout::parse_rfc3339(v->at("timestamp"));
    if (!req.timestamp_ms)
      return usage_failure("--timestamp: '" + v->at("timestamp") + "' is not an RFC 3339 time such as 2026-11-22T03:04:05Z");
  }
  req.generation = v->at("generation");
  req.if_db_not_exists = v->at("if-db-not-exists") == "true";
  req.if_replica_exists = v->at("if-replica-exists") == "true";
  const auto& parallelism = v->at("parallelism");
  if (parallelism.empty() || parallelism.size() > 2 || !std::all_of(parallelism.begin(), parallelism.end(), ::isdigit) ||
      std::stoi(parallelism) < 1 || std::stoi(parallelism) > 64)
    return usage_failure("--parallelism: '" + parallelism + "' is not a number from 1 to 64");
  req.parallelism = static_cast<unsigned>(std::stoi(parallelism));
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

namespace {
// Shared by generations/snapshots: parses --replica, lists the catalog.
int with_catalog(const std::vector<std::string>& args, const char* command, const char* summary,
                 const std::function<void(const std::vector<proto::layout::generation>&)>& print) {
  if (wants_help(args)) {
    std::cout << usage_text(command, summary, list_specs());
    return 0;
  }
  auto v = resolve_options(list_specs(), args);
  if (!v) return usage_failure(v.error().message);
  if (v->at("replica").empty()) return usage_failure(std::string(command) + " needs --replica URL");
  auto store = open_or_report(v->at("replica"));
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
