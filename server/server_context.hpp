// What every part of the HTTP server shares: settings, the actors, metrics, routes, sessions and
// the readiness flags. Created once by serve(); outlives every session.
#pragma once
#include <atomic>
#include <memory>

#include "actors/hrana_service.hpp"
#include "actors/reader_pool.hpp"
#include "actors/replicator.hpp"
#include "actors/writer_actor.hpp"
#include "server/auth.hpp"
#include "server/config.hpp"
#include "server/metrics.hpp"
#include "server/router.hpp"
#include "server/session_registry.hpp"

namespace monolite::server {

struct server_context {
  cli::serve_settings settings;
  std::shared_ptr<actors::writer_actor> writer;
  std::unique_ptr<actors::reader_pool> readers;
  std::shared_ptr<actors::hrana::service> hrana;  // Hrana streams (server/hrana_routes.cpp)
  std::shared_ptr<actors::replicator> replicator;  // null without --replica
  http_metrics metrics;
  session_registry sessions;
  router routes;
  // Null without --auth (loopback or --insecure-no-auth): every route is open. Swapped on SIGHUP.
  std::atomic<std::shared_ptr<const auth_config>> auth;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
};

void add_sql_routes(server_context& ctx);
// Checks the Authorization header against ctx.auth for every route that needs a role.
void install_access_check(server_context& ctx);
// Re-reads --auth; on failure keeps the current configuration. Logs the outcome, never a secret.
void reload_auth(server_context& ctx);
void add_system_routes(server_context& ctx);
// Hrana over HTTP: the service (after the writer and readers are open) and its routes.
proto::result<void> open_hrana(server_context& ctx, const db::connection_options& db_options,
                               boost::asio::any_io_executor timer_executor,
                               const std::vector<boost::asio::any_io_executor>& reader_executors);
void add_hrana_routes(server_context& ctx);

}  // namespace monolite::server
