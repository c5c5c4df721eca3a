// serve's replication wiring: starting the replicator once the database is open, its metrics,
// the on-demand snapshot route, and readiness in sync mode.
#pragma once
#include <boost/asio/any_io_executor.hpp>

#include "proto/error.hpp"
#include "server/server_context.hpp"

namespace monolite::server {

// Opens the replicas, decides whether the newest generation continues the local WAL, and
// attaches the replicator to the writer. Blocking (startup only).
proto::result<void> start_replication(server_context& ctx, boost::asio::any_io_executor timers);

void add_replication_routes(server_context& ctx);
void append_replication_metrics(const server_context& ctx, std::string& out);
// --verify-interval: when each replica last matched the live database, failures, last duration.
void append_verification_metrics(const server_context& ctx, std::string& out);
// False in --replica-sync mode while a replica is failing: writes could not be acknowledged.
bool replication_ready(const server_context& ctx);

}  // namespace monolite::server
