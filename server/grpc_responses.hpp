// gRPC-web answers over HTTP/1.1 for libSQL's native clients: always HTTP 200; a unary answer is
// one message then the trailer frame; a failure is "trailers-only" (grpc-status and grpc-message
// as headers, empty body), which is how the client tells NEED_SNAPSHOT or NO_HELLO apart.
#pragma once
#include <string_view>

#include "proto/error.hpp"
#include "proto/grpc_web.hpp"
#include "server/responses.hpp"

namespace monolite::server {

response grpc_unary_response(std::string_view message);
response grpc_status_response(proto::grpc_web::status code, std::string message);
// An API error as a gRPC status: 401 → UNAUTHENTICATED, 403 → PERMISSION_DENIED, 400/413/415 →
// INVALID_ARGUMENT, 503 → UNAVAILABLE, anything else → INTERNAL. The router's error encoder.
response grpc_error_response(const proto::api_error& error);
// The message of a gRPC-web request body, or the error to answer with.
proto::result<std::string_view> grpc_request_message(const request& req);

}  // namespace monolite::server
