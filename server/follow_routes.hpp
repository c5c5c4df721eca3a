// `serve --follow`: the routes of a follower. /sql/query reads the local copy (after waiting, when
// asked with X-Monolite-Min-Frame, for that primary frame to be applied: 504 after 5 s).
// /sql/execute, /sql/batch and every Hrana request (/v2/pipeline, /v3/pipeline, /v3/cursor) are
// forwarded whole to the primary, with the client's Authorization (or --follow-token), and the
// primary's status, body and X-Monolite-Frame come back; 502 PRIMARY_UNREACHABLE when it cannot
// be reached. Also: open_follower() starts the pull loop and opens the readers once a copy exists.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>

#include "server/server_context.hpp"

namespace monolite::server {

inline constexpr std::string_view frame_header = "X-Monolite-Frame";
inline constexpr std::string_view min_frame_header = "X-Monolite-Min-Frame";

// `open_readers` runs on `readers_home` once the copy exists; it opens ctx.readers and sets ready.
proto::result<void> open_follower(server_context& ctx, boost::asio::any_io_executor readers_home,
                                  std::function<proto::result<void>()> open_readers);
void add_follow_routes(server_context& ctx);

}  // namespace monolite::server
