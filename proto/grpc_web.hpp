// gRPC-web over HTTP/1.1, as libSQL's native client speaks it: a body of frames, each a flag byte
// (0x00 data, 0x80 trailers) and a big-endian 32-bit length. Requests carry one data frame; a
// response carries its messages, then one trailer frame "grpc-status:N\r\ngrpc-message:…\r\n".
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/error.hpp"

namespace monolite::proto::grpc_web {

inline constexpr std::string_view content_type = "application/grpc-web+proto";

// gRPC status codes we answer with.
enum class status : int {
  ok = 0,
  invalid_argument = 3,
  failed_precondition = 9,
  internal = 13,
  unavailable = 14,
  unauthenticated = 16,
  permission_denied = 7,
  unimplemented = 12
};

// The message of a request body holding exactly one uncompressed data frame.
result<std::string_view> request_message(std::string_view body);
// Appends a data frame holding `message`.
void append_message(std::string& out, std::string_view message);
// Appends the trailer frame.
void append_trailers(std::string& out, status code, std::string_view message = {});

}  // namespace monolite::proto::grpc_web
