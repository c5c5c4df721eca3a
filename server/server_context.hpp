// What every part of the HTTP server shares: settings, the actors, metrics, routes, sessions and
// the readiness flags. Created once by serve(); outlives every session.
#pragma once
#include <atomic>
#include <memory>

#include "actors/engine.hpp"
#include "actors/follower.hpp"
#include "actors/hrana_service.hpp"
#include "actors/reader_pool.hpp"
#include "actors/replica_verifier.hpp"
#include "actors/replication_log.hpp"
#include "actors/replicator.hpp"
#include "actors/writer_actor.hpp"
#include "server/auth.hpp"
#include "server/metrics.hpp"
#include "server/router.hpp"
#include "server/session_registry.hpp"
#include "server/settings.hpp"
#include "server/statement_log.hpp"
#include "server/status_windows.hpp"

namespace monolite::server {

class guard_watch;
class statement_log_saver;

struct server_context {
  server::settings settings;
  // What the SQL and Hrana routes run on (actors/engine.hpp): the SQLite actors below, or PostgreSQL.
  std::shared_ptr<actors::engine> engine;
  // The SQLite actors; all null on the PostgreSQL engine (what only SQLite has checks for them).
  std::shared_ptr<actors::writer_actor> writer;
  std::unique_ptr<actors::reader_pool> readers;
  std::shared_ptr<actors::hrana::service> hrana;   // Hrana streams (server/hrana_routes.cpp)
  std::shared_ptr<actors::replicator> replicator;  // null without --replica
  std::shared_ptr<actors::follower> follower;      // null without --follow (server/follow_routes.hpp)
  // The frames libSQL's embedded replicas and followers pull (server/wal_log_routes.hpp); null
  // when --replication-log-max-bytes is 0 and on PostgreSQL.
  std::shared_ptr<actors::replication_log> replication_log;
  std::string replication_session;                    // Hello's session token: new at each start
  boost::asio::any_io_executor replication_blocking;  // where snapshots read the database files
  // Null without --verify-interval; its thread starts once the server is ready.
  std::unique_ptr<actors::replica_verifier> verifier;
  std::shared_ptr<guard_watch> guards;  // from announce_ready() on (server/guards.hpp)
  // Null without --statement-log (server/statement_recording.hpp); its saver from announce_ready() on.
  std::unique_ptr<server::statement_log> statement_log;
  std::shared_ptr<statement_log_saver> statement_saver;
  http_metrics metrics;
  status_book status;  // sampled by the guards every second; read by GET /admin/status
  session_registry sessions;
  router routes;
  // Null without --auth (loopback or --insecure-no-auth): every route is open. Swapped on SIGHUP.
  std::atomic<std::shared_ptr<const auth_config>> auth;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
};

}  // namespace monolite::server
