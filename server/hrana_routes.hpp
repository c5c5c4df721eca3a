// Hrana over HTTP (/v2, /v3, pipelines and cursors) for libSQL clients.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <vector>

#include "server/server_context.hpp"

namespace monolite::server {

// Hrana over HTTP: the service (after the writer and readers are open) and its routes.
proto::result<void> open_hrana(server_context& ctx, const db::connection_options& db_options,
                               boost::asio::any_io_executor timer_executor,
                               const std::vector<boost::asio::any_io_executor>& reader_executors);
void add_hrana_routes(server_context& ctx);

}  // namespace monolite::server
