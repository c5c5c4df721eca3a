#include "server/responses.hpp"

#include <strings.h>

#include <boost/beast/http/status.hpp>
#include <boost/json/serialize.hpp>

namespace monolite::server {

response text_response(unsigned status, std::string body, std::string_view content_type) {
  return response{status, content_type, {}, std::move(body)};
}

response json_response(unsigned status, std::string body) {
  return text_response(status, std::move(body), "application/json");
}

response error_response(const proto::api_error& error) {
  auto res = json_response(error.status, boost::json::serialize(to_json(error)));
  if (error.retry_after) res.set("Retry-After", std::to_string(error.retry_after));
  return res;
}

std::optional<response> reject_unless_json(const request& req) {
  auto type = req[http::field::content_type];
  if (type.empty()) return std::nullopt;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ')
    type.remove_suffix(1);
  if (type.size() == 16 && strncasecmp(type.data(), "application/json", 16) == 0) return std::nullopt;
  return error_response({415, "UNSUPPORTED_MEDIA_TYPE", "send the body as Content-Type: application/json"});
}

void append_wire(std::string& out, const response& res, bool keep_alive) {
  out.reserve(out.size() + 160 + res.body.size());
  out.append("HTTP/1.1 ").append(std::to_string(res.status)).append(" ");
  out.append(http::obsolete_reason(static_cast<http::status>(res.status)));
  out.append("\r\nServer: monolite\r\nContent-Type: ").append(res.content_type);
  out.append("\r\nContent-Length: ").append(std::to_string(res.body.size()));
  for (const auto& [name, value] : res.headers)
    out.append("\r\n").append(name).append(": ").append(value);
  // HTTP/1.1 keeps connections open unless told; HTTP/1.0 clients that asked to keep it read this too.
  out.append(keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
  out.append(res.body);
}

}  // namespace monolite::server
