// What `monolite serve` runs with: a plain struct that cli/ fills in from flags, environment and
// config file (cli/serve_command.hpp), already validated. server/ never parses a command line.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "replica/format/seal.hpp"
#include "replica/s3/url.hpp"
#include "server/advice.hpp"
#include "server/forwarded.hpp"

namespace monolite::server {

struct settings {
  std::string db_path;  // the SQLite file; empty on the PostgreSQL engine
  // --db postgres://…: the same API served from PostgreSQL (actors/pg_engine.hpp); empty for SQLite.
  std::string postgres_url;
  std::size_t pg_pool = 8;  // --pg-pool: connections to PostgreSQL at most
  std::string listen_host;
  unsigned short listen_port = 0;
  unsigned readers = 1;
  unsigned threads = 1;
  std::string synchronous;  // NORMAL or FULL
  std::int64_t cache_size = 0;
  int busy_timeout_ms = 0;
  std::size_t max_body = 0;
  std::size_t writer_queue = 0;
  std::chrono::milliseconds shutdown_grace{0};
  std::chrono::milliseconds idle_timeout{0};
  log::level log_level = log::level::info;
  std::string auth_path;  // empty: no authentication (loopback only, or --insecure-no-auth)
  bool insecure_no_auth = false;
  std::size_t max_connections = 0;
  std::chrono::milliseconds statement_timeout{0};
  std::chrono::milliseconds transaction_timeout{5000};  // longest Hrana interactive transaction
  std::size_t max_read_transactions = 16;               // Hrana read transactions open at once
  // The guards (server/guards.hpp); 0 turns one off.
  std::chrono::milliseconds read_snapshot_warning{std::chrono::minutes(5)};
  std::uint64_t wal_size_warning = std::uint64_t{1} << 30;
  // The migration trigger (GET /admin/status, monolite advise: server/advice.hpp).
  advice_thresholds advice;
  std::chrono::milliseconds long_read_threshold{1000};  // a read this long counts in monolite_long_reads_total
  int max_sql_length = 0;
  int max_params = 0;
  std::size_t max_result_rows = 0;
  std::size_t max_result_bytes = 0;
  // --db-executor: where the actors' strands run (docs/architecture.md, "Where SQLite runs").
  bool readers_on_io_threads = false;  // affine: one reader per HTTP thread
  bool access_log = false;             // one log line per request
  std::string statement_log_path;      // --statement-log: empty records nothing
  std::size_t statement_log_limit = 10000;
  bool read_only = false;                  // --read-only: start refusing writes (POST /admin/read-only)
  server::address_ranges trusted_proxies;  // whose X-Forwarded-For is believed
  // Replication (docs/replication.md).
  std::vector<std::string> replicas;
  bool restore_if_missing = false;
  bool replica_sync = false;
  std::chrono::milliseconds replica_interval{500}, replica_sync_timeout{10000};
  std::chrono::milliseconds snapshot_interval{0}, retention{0}, retention_check{0};
  std::chrono::milliseconds replica_compact_interval{0};  // 0: never compact
  std::size_t replica_max_backlog = 0;
  std::chrono::milliseconds replica_retry_timeout{120000};  // a restore at boot retries an object this long
  // The first key seals new objects, every key opens them; empty: objects are stored as they are.
  // Never logged: only key ids (replica/format/seal.hpp) are.
  replica::seal::keyring replica_keys;
  std::chrono::milliseconds verify_interval{0};  // 0: the replicas are not verified while serving
  // The replication log libSQL replicas and followers pull from (docs/replication.md); 0 bytes: off.
  std::uint64_t replication_log_max_bytes = 256ull << 20;
  std::chrono::milliseconds replication_log_max_age{24 * 3600 * 1000};
  // --follow URL: a read-only copy of that primary (actors/follower.hpp); empty host: not a follower.
  replica::s3_endpoint follow_primary;
  std::string follow_token;  // --follow-token: for pulling, and for forwarded requests without a token
  bool follows() const { return !follow_primary.host.empty(); }
};
}  // namespace monolite::server
