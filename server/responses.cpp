#include "server/responses.hpp"

#include <strings.h>

#include <cstdio>

#include <boost/beast/http/status.hpp>
#include <boost/json/serialize.hpp>

namespace monolite::server {

response text_response(unsigned status, std::string body, std::string_view content_type) {
  return response{status, content_type, {}, std::move(body)};
}

response json_response(unsigned status, std::string body) {
  return text_response(status, std::move(body), "application/json");
}

response streamed_response(unsigned status, std::shared_ptr<body_stream> stream, std::string_view content_type) {
  return response{status, content_type, {}, {}, std::move(stream)};
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

namespace {

// The status line and every header but the body's length, the connection's fate and the blank line.
void append_head_start(std::string& out, const response& res) {
  out.append("HTTP/1.1 ").append(std::to_string(res.status)).append(" ");
  out.append(http::obsolete_reason(static_cast<http::status>(res.status)));
  out.append("\r\nServer: monolite\r\nContent-Type: ").append(res.content_type);
  for (const auto& [name, value] : res.headers)
    out.append("\r\n").append(name).append(": ").append(value);
}

// HTTP/1.1 keeps connections open unless told; HTTP/1.0 clients that asked to keep it read this too.
void append_head_end(std::string& out, bool keep_alive) {
  out.append(keep_alive ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
}

}  // namespace

void append_wire(std::string& out, const response& res, bool keep_alive, bool head) {
  out.reserve(out.size() + 160 + (head ? 0 : res.body.size()));
  append_head_start(out, res);
  out.append("\r\nContent-Length: ").append(std::to_string(res.body.size()));
  append_head_end(out, keep_alive);
  if (!head) out.append(res.body);
}

void append_stream_head(std::string& out, const response& res, bool keep_alive, bool chunked) {
  append_head_start(out, res);
  if (chunked) out.append("\r\nTransfer-Encoding: chunked");
  append_head_end(out, keep_alive);
}

void append_chunk_size(std::string& out, std::size_t size) {
  char hex[2 * sizeof(std::size_t) + 1];
  const auto written = std::snprintf(hex, sizeof hex, "%zx", size);
  out.append(hex, static_cast<std::size_t>(written)).append("\r\n");
}

void append_last_chunk(std::string& out, const std::vector<std::pair<std::string, std::string>>& trailers) {
  out.append("0\r\n");
  for (const auto& [name, value] : trailers)
    out.append(name).append(": ").append(value).append("\r\n");
  out.append("\r\n");
}

}  // namespace monolite::server
