#include "server/grpc_responses.hpp"

namespace monolite::server {

namespace grpc = proto::grpc_web;

response grpc_unary_response(std::string_view message) {
  response res;
  res.content_type = grpc::content_type;
  grpc::append_message(res.body, message);
  grpc::append_trailers(res.body, grpc::status::ok);
  return res;
}

response grpc_status_response(grpc::status code, std::string message) {
  response res;
  res.content_type = grpc::content_type;
  res.set("grpc-status", std::to_string(static_cast<int>(code)));
  if (!message.empty()) res.set("grpc-message", std::move(message));
  return res;
}

response grpc_error_response(const proto::api_error& error) {
  auto code = grpc::status::internal;
  if (error.status == 401) code = grpc::status::unauthenticated;
  if (error.status == 403) code = grpc::status::permission_denied;
  if (error.status == 400 || error.status == 413 || error.status == 415) code = grpc::status::invalid_argument;
  if (error.status == 503) code = grpc::status::unavailable;
  // Header values stay on one line of printable ASCII.
  std::string message = error.code + ": " + error.message;
  for (char& c : message)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = ' ';
  return grpc_status_response(code, std::move(message));
}

proto::result<std::string_view> grpc_request_message(const request& req) {
  const auto type = req[http::field::content_type];
  if (!type.starts_with("application/grpc-web")) {  // also +proto
    return proto::api_error{415, "UNSUPPORTED_MEDIA_TYPE", "send content-type: application/grpc-web"};
  }
  return proto::grpc_web::request_message(req.body());
}

}  // namespace monolite::server
