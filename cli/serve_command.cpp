
#include "cli/serve_command.hpp"

#include <algorithm>
#include <iostream>
#include <thread>
#include <utility>

#include <boost/asio/ip/address.hpp>

#include "cli/command_support.hpp"
#include "cli/server_client.hpp"
#include "cli/values.hpp"
#include "server/serve.hpp"

namespace monolite::cli {
namespace {

std::string cores() { return std::to_string(std::max(1u, std::thread::hardware_concurrency())); }

const std::vector<option_spec>& specs() {
  static const std::vector<option_spec> table = {
      {"db", "PATH|URL",
       "database file, created with its folder when missing; or postgres://USER@HOST/DB to serve PostgreSQL",
       "./data/app.db"},
      {"pg-pool", "N", "connections to PostgreSQL at most (with --db postgres://…)", "8"},
      {"listen", "HOST:PORT", "address to serve HTTP on", "127.0.0.1:8080"},
      {"readers", "N", "read-only connections, each on its own strand", cores()},
      {"threads", "N", "threads serving HTTP", cores()},
      {"synchronous", "normal|full", "SQLite synchronous mode of the write connection", "normal"},
      {"cache-size", "N", "SQLite cache_size per connection (negative: KiB)", "-64000"},
      {"busy-timeout", "DURATION", "SQLite busy_timeout (a plain number: milliseconds)", "5000"},
      {"max-body", "BYTES", "largest request body accepted (413 beyond)", "8388608"},
      {"writer-queue", "N", "write requests in flight before 503 OVERLOADED", "4096"},
      {"shutdown-grace", "DURATION", "time to finish in-flight requests on SIGTERM", "10"},
      {"idle-timeout", "DURATION", "close keep-alive connections idle this long", "60"},
      {"log-level", "LEVEL", "debug, info, warn or error", "info"},
      {"auth", "FILE", "tokens and JWT keys (docs/security.md); reloaded on SIGHUP", ""},
      {"insecure-no-auth", "true|false", "allow a non-loopback --listen without --auth", "false"},
      {"max-connections", "N", "open HTTP connections at most (503 beyond)", "1024"},
      {"statement-timeout", "DURATION", "a client statement running longer is stopped (504)", "5"},
      {"transaction-timeout", "DURATION", "an interactive (Hrana) transaction open longer is rolled back", "5"},
      {"max-read-transactions", "N|auto",
       "Hrana read transactions (BEGIN TRANSACTION READONLY) open at once, each holding a read-only connection; "
       "one more is answered 503 TRANSACTION_BUSY (auto: the larger of 16 and 4 per reader thread)",
       "auto"},
      {"read-snapshot-warning", "DURATION",
       "log a warning when a read has held its snapshot (and so the WAL) this long (0: never)", "5m"},
      {"wal-size-warning", "BYTES", "log a warning when the WAL file grows past this size (0: never)", "1073741824"},
      {"long-read-threshold", "DURATION", "a read running this long counts in monolite_long_reads_total", "1s"},
      {"advise-writes-per-second", "N", "/admin/status: write statements per second that mean plan the move", "5000"},
      {"advise-commits-per-second", "N", "/admin/status: group commits per second that mean plan the move", "50"},
      {"advise-commit-p99", "DURATION", "/admin/status: commit p99 latency that means plan the move", "50ms"},
      {"advise-read-p99", "DURATION", "/admin/status: read p99 latency that means plan the move", "250ms"},
      {"advise-database-size", "BYTES", "/admin/status: database file size that means plan the move", "10737418240"},
      {"advise-client-addresses", "N",
       "/admin/status: distinct client addresses connected at once (application servers) that mean plan the move", "4"},
      {"advise-window", "DURATION", "/admin/status: the window (1s to 15m) the verdicts judge rates over", "15m"},
      {"max-sql-length", "BYTES", "longest SQL text accepted (413 beyond)", "100000"},
      {"max-params", "N", "most parameters in one statement", "1000"},
      {"max-result-rows", "N", "most rows in one result (400 RESULT_TOO_LARGE beyond)", "100000"},
      {"max-result-bytes", "BYTES", "largest result, roughly as JSON", "33554432"},
      {"db-executor", "affine|pool", "one reader on each HTTP thread, or readers on threads of their own", "affine"},
      {"access-log", "", "log every request: method, path, status, time, client address", "false", true},
      {"statement-log", "FILE",
       "record each distinct statement shape (values as ?) with counts in FILE, JSON lines, saved every 10 s", ""},
      {"statement-log-limit", "N", "distinct statements the statement log keeps; more are only counted", "10000"},
      {"read-only", "", "start refusing writes (503 READ_ONLY) until POST /admin/read-only {\"read_only\": false}",
       "false", true},
      {"trusted-proxies", "LIST", "peers whose X-Forwarded-For names the client (CIDRs, or private_ranges)",
       "127.0.0.0/8,::1"},
      {"follow", "URL",
       "serve a read-only copy of the primary at URL (http[s]://host:port), kept by its replication log; writes and "
       "Hrana are forwarded to it",
       ""},
      {"follow-token", "TOKEN", "--follow: bearer token for the primary (read role; forwarded requests without one)",
       ""},
      {"replica", "URL", "stream the WAL to this replica: file:///path or s3://bucket/prefix?... (repeatable)", "",
       false, true},
      {"restore-if-missing", "", "when --db is absent, restore it from the first replica before serving", "false",
       true},
      {"replica-sync", "", "acknowledge a write only once every replica holds it", "false", true},
      {"replica-interval", "DURATION", "async mode: upload WAL segments at most this often", "500ms"},
      {"replica-sync-timeout", "DURATION", "sync mode: a write waiting longer for the replicas fails with 503", "10s"},
      {"snapshot-interval", "DURATION", "take a full snapshot of the database this often", "24h"},
      {"retention", "DURATION", "keep everything a restore to any point this far back needs", "72h"},
      {"retention-check", "DURATION", "how often old replica objects are looked for and deleted", "1h"},
      {"replica-compact-interval", "DURATION", "how often runs of small WAL segments are merged (0: never)", "5m"},
      {"replica-retry-timeout", "DURATION",
       "--restore-if-missing: how long one object's transient failures are retried", "2m"},
      {"replica-max-backlog", "BYTES", "unshipped WAL held in memory per replica before a new generation", "268435456"},
      replica_key_file_spec(),
      {"replication-log-max-bytes", "BYTES",
       "frames kept for libSQL embedded replicas and followers to pull; older ones are served as a snapshot "
       "(0: no replication log)",
       "268435456"},
      {"replication-log-max-age", "DURATION", "frames older than this are trimmed from the replication log", "24h"},
      {"verify-interval", "DURATION",
       "restore each replica this often and compare it with the live database (0: never)", "0"},
  };
  return table;
}

template <class T>
usage_result<T> number_of(const option_values& values, const std::string& name, T min, T max) {
  return parse_number<T>(values.at(name), name, min, max);
}

usage_result<std::chrono::milliseconds> duration_of(const option_values& values, const std::string& name) {
  return parse_duration(values.at(name), name);
}

// A duration where "0" turns the thing off.
usage_result<std::chrono::milliseconds> duration_or_off_of(const option_values& values, const std::string& name) {
  if (values.at(name) == "0") return std::chrono::milliseconds(0);
  return duration_of(values, name);
}

// SQLite's busy_timeout is in milliseconds, so a bare number stays milliseconds here (the one
// exception to "a bare number is seconds"); at most an hour.
usage_result<int> busy_timeout_of(const option_values& values) {
  auto parsed = parse_duration(values.at("busy-timeout"), "busy-timeout", std::chrono::milliseconds(1));
  if (!parsed) return parsed.error();
  if (*parsed > std::chrono::hours(1))
    return usage_error{"--busy-timeout: '" + values.at("busy-timeout") + "' is longer than 1h"};
  return static_cast<int>(parsed->count());
}

// "0" turns a warning off; anything else is a duration.
usage_result<std::chrono::milliseconds> duration_or_off(const option_values& values, const std::string& name) {
  if (values.at(name) == "0") return std::chrono::milliseconds(0);
  return parse_duration(values.at(name), name);
}

// Read transactions are short by design: a few per reader thread, and never fewer than 16.
usage_result<std::size_t> max_read_transactions_of(const option_values& values, const server::settings& s) {
  if (values.at("max-read-transactions") == "auto") {
    const std::size_t reader_threads = s.readers_on_io_threads ? s.threads : s.readers;
    return std::max<std::size_t>(16, 4 * reader_threads);
  }
  return parse_number<std::size_t>(values.at("max-read-transactions"), "max-read-transactions", 1, 4096);
}

usage_result<void> parse_listen(const std::string& text, server::settings& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return usage_error{"--listen: '" + text + "' is not HOST:PORT"};
  out.listen_host = text.substr(0, colon);
  if (out.listen_host.front() == '[' && out.listen_host.back() == ']')
    out.listen_host = out.listen_host.substr(1, out.listen_host.size() - 2);
  if (out.listen_host == "localhost") out.listen_host = "127.0.0.1";
  boost::system::error_code ec;
  boost::asio::ip::make_address(out.listen_host, ec);
  if (ec) return usage_error{"--listen: '" + out.listen_host + "' is not an IP address"};
  auto port = parse_number<unsigned>(text.substr(colon + 1), "listen", 0, 65535);
  if (!port) return usage_error{"--listen: '" + text + "' has no valid port (0-65535)"};
  out.listen_port = static_cast<unsigned short>(*port);
  return {};
}

bool is_loopback(const std::string& host) { return host.rfind("127.", 0) == 0 || host == "::1"; }

// Safe by default: nobody reaches an unauthenticated database from another machine by accident.
usage_result<void> parse_auth(const option_values& values, server::settings& out) {
  out.auth_path = values.at("auth");
  auto insecure = parse_bool(values.at("insecure-no-auth"), "insecure-no-auth");
  if (!insecure) return insecure.error();
  out.insecure_no_auth = *insecure;
  if (out.auth_path.empty() && !out.insecure_no_auth && !is_loopback(out.listen_host))
    return usage_error{"--listen " + out.listen_host +
                       " is reachable from other machines but no --auth FILE is set; add tokens with "
                       "--auth (docs/security.md) or pass --insecure-no-auth true"};
  return {};
}

usage_result<void> parse_access_log_and_modes(const option_values& values, server::settings& out) {
  auto access_log = parse_bool(values.at("access-log"), "access-log");
  if (!access_log) return access_log.error();
  out.access_log = *access_log;
  auto read_only = parse_bool(values.at("read-only"), "read-only");
  if (!read_only) return read_only.error();
  out.read_only = *read_only;
  out.statement_log_path = values.at("statement-log");
  auto trusted = server::address_ranges::parse(values.at("trusted-proxies"));
  if (!trusted)
    return usage_error{"--trusted-proxies: '" + trusted.error().entry + "' is not an IP address or CIDR range"};
  out.trusted_proxies = std::move(*trusted);
  return {};
}

usage_result<void> parse_enums(const option_values& values, server::settings& out) {
  std::string sync = values.at("synchronous");
  std::transform(sync.begin(), sync.end(), sync.begin(), ::toupper);
  if (sync != "NORMAL" && sync != "FULL")
    return usage_error{"--synchronous: '" + values.at("synchronous") + "' must be normal or full"};
  out.synchronous = sync;
  const auto& executor = values.at("db-executor");
  if (executor != "pool" && executor != "affine")
    return usage_error{"--db-executor: '" + executor + "' must be pool or affine"};
  out.readers_on_io_threads = executor == "affine";
  if (!log::parse_level(values.at("log-level"), out.log_level))
    return usage_error{"--log-level: '" + values.at("log-level") + "' must be debug, info, warn or error"};
  return {};
}

template <class T, class U>
usage_result<void> assign(usage_result<T> parsed, U& field) {
  if (!parsed) return parsed.error();
  field = static_cast<U>(*parsed);
  return {};
}

usage_result<void> parse_numbers(const option_values& v, server::settings& out) {
  constexpr std::int64_t huge = std::int64_t{1} << 40;
  for (auto ok : {assign(number_of<std::size_t>(v, "statement-log-limit", 1, 10000000), out.statement_log_limit),
                  assign(number_of<unsigned>(v, "readers", 1, 256), out.readers),
                  assign(number_of<unsigned>(v, "threads", 1, 256), out.threads),
                  assign(number_of<std::int64_t>(v, "cache-size", -huge, huge), out.cache_size),
                  assign(busy_timeout_of(v), out.busy_timeout_ms),
                  assign(number_of<std::size_t>(v, "max-body", 1, std::size_t{1} << 31), out.max_body),
                  assign(number_of<std::size_t>(v, "writer-queue", 1, 1000000), out.writer_queue),
                  assign(duration_of(v, "shutdown-grace"), out.shutdown_grace),
                  assign(duration_of(v, "idle-timeout"), out.idle_timeout),
                  assign(duration_of(v, "statement-timeout"), out.statement_timeout),
                  assign(duration_of(v, "transaction-timeout"), out.transaction_timeout),
                  assign(number_of<std::size_t>(v, "max-connections", 1, 1000000), out.max_connections),
                  assign(number_of<int>(v, "max-sql-length", 1, 1000000000), out.max_sql_length),
                  assign(number_of<int>(v, "max-params", 1, 32766), out.max_params),
                  assign(number_of<std::size_t>(v, "max-result-rows", 1, std::size_t{1} << 40), out.max_result_rows),
                  assign(number_of<std::size_t>(v, "max-result-bytes", 1, std::size_t{1} << 40), out.max_result_bytes)})
    if (!ok) return ok.error();
  return {};
}

// 0 turns the periodic verification off; any other value is a duration and needs a --replica.
usage_result<void> parse_verify_interval(const option_values& v, server::settings& out) {
  out.verify_interval = std::chrono::milliseconds(0);
  if (v.at("verify-interval") == "0") return {};
  if (auto ok = assign(duration_of(v, "verify-interval"), out.verify_interval); !ok) return ok.error();
  if (out.replicas.empty()) return usage_error{"--verify-interval needs a --replica"};
  return {};
}

usage_result<void> parse_guards(const option_values& v, server::settings& out) {
  for (auto ok :
       {assign(max_read_transactions_of(v, out), out.max_read_transactions),
        assign(duration_or_off(v, "read-snapshot-warning"), out.read_snapshot_warning),
        assign(number_of<std::uint64_t>(v, "wal-size-warning", 0, std::uint64_t{1} << 50), out.wal_size_warning)})
    if (!ok) return ok.error();
  return {};
}

usage_result<void> parse_advice(const option_values& v, server::settings& out) {
  auto& a = out.advice;
  for (auto ok :
       {assign(duration_of(v, "long-read-threshold"), out.long_read_threshold),
        assign(number_of<std::uint64_t>(v, "advise-writes-per-second", 1, 100000000), a.write_statements_per_second),
        assign(number_of<std::uint64_t>(v, "advise-commits-per-second", 1, 100000000), a.commits_per_second),
        assign(duration_of(v, "advise-commit-p99"), a.commit_p99),
        assign(duration_of(v, "advise-read-p99"), a.read_p99),
        assign(number_of<std::uint64_t>(v, "advise-database-size", 1, std::uint64_t{1} << 50), a.database_bytes),
        assign(number_of<std::uint64_t>(v, "advise-client-addresses", 1, 1000000), a.client_addresses),
        assign(duration_of(v, "advise-window"), a.window)})
    if (!ok) return ok.error();
  if (a.window < std::chrono::seconds(1) || a.window > std::chrono::minutes(15))
    return usage_error{"--advise-window: '" + v.at("advise-window") + "' must be from 1s to 15m"};
  return {};
}

usage_result<void> parse_replication(const option_values& v, server::settings& out) {
  out.replicas = split_list(v.at("replica"));
  for (const auto& url : out.replicas)
    if (url.rfind("file://", 0) != 0 && url.rfind("s3://", 0) != 0)
      return usage_error{"--replica: '" + url + "' must start with file:// or s3://"};
  auto restore = parse_bool(v.at("restore-if-missing"), "restore-if-missing");
  if (!restore) return restore.error();
  auto sync = parse_bool(v.at("replica-sync"), "replica-sync");
  if (!sync) return sync.error();
  out.restore_if_missing = *restore, out.replica_sync = *sync;
  auto keys = load_replica_keys(v);
  if (!keys) return keys.error();
  out.replica_keys = std::move(*keys);
  if ((out.restore_if_missing || out.replica_sync) && out.replicas.empty())
    return usage_error{std::string(out.replica_sync ? "--replica-sync" : "--restore-if-missing") +
                       " needs a --replica"};
  for (auto ok : {assign(duration_of(v, "replica-interval"), out.replica_interval),
                  assign(duration_of(v, "replica-sync-timeout"), out.replica_sync_timeout),
                  assign(duration_of(v, "snapshot-interval"), out.snapshot_interval),
                  assign(duration_of(v, "retention"), out.retention),
                  assign(duration_of(v, "retention-check"), out.retention_check),
                  assign(duration_or_off_of(v, "replica-compact-interval"), out.replica_compact_interval),
                  assign(duration_of(v, "replica-retry-timeout"), out.replica_retry_timeout),
                  assign(number_of<std::size_t>(v, "replica-max-backlog", 1u << 20, std::size_t{1} << 40),
                         out.replica_max_backlog),
                  assign(number_of<std::uint64_t>(v, "replication-log-max-bytes", 0, std::uint64_t{1} << 50),
                         out.replication_log_max_bytes),
                  assign(duration_of(v, "replication-log-max-age"), out.replication_log_max_age)})
    if (!ok) return ok.error();
  return parse_verify_interval(v, out);
}

bool is_postgres_url(const std::string& db) {
  return db.rfind("postgres://", 0) == 0 || db.rfind("postgresql://", 0) == 0;
}

// --follow URL: a read-only copy; what writes on its own (replicas, restores, read-only mode) is refused.
usage_result<void> parse_follow(const option_values& v, server::settings& out) {
  out.follow_token = v.at("follow-token");
  if (v.at("follow").empty()) {
    if (!out.follow_token.empty()) return usage_error{"--follow-token needs --follow"};
    return {};
  }
  auto primary = parse_server_url(v.at("follow"), "follow");
  if (!primary) return primary.error();
  out.follow_primary = std::move(*primary);
  if (!out.postgres_url.empty()) return usage_error{"--follow needs a SQLite --db"};
  if (!out.replicas.empty()) return usage_error{"--follow cannot be combined with --replica"};
  if (out.read_only) return usage_error{"--follow is read-only already: drop --read-only"};
  out.replication_log_max_bytes = 0;  // a follower serves no replication log of its own
  return {};
}

// --db postgres://…: what only SQLite has (its file, replication, read-only mode) is refused.
usage_result<void> parse_engine(const option_values& v, server::settings& out) {
  if (auto ok = assign(number_of<std::size_t>(v, "pg-pool", 1, 10000), out.pg_pool); !ok) return ok.error();
  if (!is_postgres_url(out.db_path)) return {};
  out.postgres_url = std::exchange(out.db_path, std::string{});
  if (!out.replicas.empty()) return usage_error{"--replica needs a SQLite --db: PostgreSQL keeps its own backups"};
  if (out.read_only) return usage_error{"--read-only needs a SQLite --db"};
  return {};
}

}  // namespace

std::span<const option_spec> serve_option_specs() { return specs(); }

usage_result<server::settings> load_serve_settings(const std::vector<std::string>& args) {
  auto values = resolve_options(specs(), args);
  if (!values) return values.error();
  server::settings out;
  out.db_path = values->at("db");
  if (out.db_path.empty()) return usage_error{"--db: must not be empty"};
  if (auto ok = parse_listen(values->at("listen"), out); !ok) return ok.error();
  if (auto ok = parse_enums(*values, out); !ok) return ok.error();
  if (auto ok = parse_numbers(*values, out); !ok) return ok.error();
  if (auto ok = parse_guards(*values, out); !ok) return ok.error();
  if (auto ok = parse_advice(*values, out); !ok) return ok.error();
  if (auto ok = parse_auth(*values, out); !ok) return ok.error();
  if (auto ok = parse_access_log_and_modes(*values, out); !ok) return ok.error();
  if (auto ok = parse_replication(*values, out); !ok) return ok.error();
  if (auto ok = parse_engine(*values, out); !ok) return ok.error();
  if (auto ok = parse_follow(*values, out); !ok) return ok.error();
  return out;
}

int run_serve(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << usage_text("serve", "Serves the database over HTTP/JSON until SIGTERM or SIGINT.",
                            serve_option_specs());
    return 0;
  }
  auto settings = load_serve_settings(args);
  if (!settings) return usage_failure(settings.error().message);
  return server::serve(*settings);
}

}  // namespace monolite::cli
