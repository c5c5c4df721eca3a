// libSQL's replication service (`wal_log.ReplicationLog` over gRPC-web): what an embedded replica
// (`@libsql/client` with `syncUrl`) and a monolite follower pull the database from — Hello, then
// frames by number (BatchLogEntries), or the whole database as frames (Snapshot) when they ask for
// frames the log no longer holds or that belong to an earlier history (NEED_SNAPSHOT).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <string>

#include "proto/error.hpp"

namespace monolite::server {

struct server_context;

// Before the writer opens the database: the log compares the files with how it left them.
// `blocking`: where snapshots read the database files.
proto::result<void> open_replication_log(server_context& ctx, boost::asio::any_io_executor blocking);
// After the writer (and the replicator) attached: every commit from now on is logged.
proto::result<void> start_replication_log(server_context& ctx);
// After every connection to the database closed.
void close_replication_log(server_context& ctx);
void add_wal_log_routes(server_context& ctx);
// The monolite_replication_log_* series of /metrics.
void append_replication_log_metrics(const server_context& ctx, std::string& out);

}  // namespace monolite::server
