#include "actors/hrana_streams.hpp"

namespace monolite::actors::hrana {

proto::api_error stream_expired_error() {
  return {400, "STREAM_EXPIRED", "the stream of this baton has expired (idle too long) or was closed; open a new one"};
}

proto::api_error baton_reused_error() {
  return {400, "BATON_REUSED", "this baton was already used; send the baton of the last response"};
}

proto::api_error write_stream_forbidden_error() {
  return {403, "FORBIDDEN", "a read token may not use a stream opened with a write token"};
}

proto::api_error too_many_streams_error(std::size_t max_streams) {
  return {503, "TOO_MANY_STREAMS",
          "the server holds " + std::to_string(max_streams) + " open streams; close some or retry", 1};
}

}  // namespace monolite::actors::hrana
