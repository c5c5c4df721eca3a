// libSQL's write proxy for embedded replicas (gRPC-web, proto/libsql_proxy.hpp):
//   POST /proxy.Proxy/Execute     (role write) a Program, run as one Hrana batch through the engine
//   POST /proxy.Proxy/Describe    (role read)  a statement's parameters and columns
//   POST /proxy.Proxy/Disconnect  (role read)  ends the client's open transaction, if any
// A program that leaves a transaction open keeps its Hrana stream for its client_id (a bounded
// table, the oldest evicted by closing its stream); the engine's stream expiry and transaction
// timeout still apply, and the client's next Execute is then told its transaction is gone.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "server/server_context.hpp"

namespace monolite::server {

struct proxy_options {
  // client_ids holding an open transaction at once; the oldest idle one is evicted beyond.
  std::size_t max_clients = 1024;
  // The replication frame_no the last write committed at, sent as ExecuteResults.current_frame_no
  // (the replica then syncs until it has it). Empty: the field is not sent. Thread-safe.
  std::function<std::optional<std::uint64_t>()> committed_frame_no;
};

void add_proxy_routes(server_context& ctx, proxy_options options = {});

}  // namespace monolite::server
