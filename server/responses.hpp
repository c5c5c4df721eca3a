// HTTP responses as we send them: a status, a content type, a few extra headers and a body,
// written to the wire by hand (one buffer per write; cheaper than a generic serializer).
// Requests stay Beast messages. Every failure goes out in the JSON error shape.
#pragma once
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "proto/error.hpp"

namespace monolite::server {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;

struct response {
  unsigned status = 200;
  std::string_view content_type = "application/json";             // always a literal
  std::vector<std::pair<std::string_view, std::string>> headers;  // extra ones, e.g. Retry-After
  std::string body;

  void set(std::string_view name, std::string value) { headers.emplace_back(name, std::move(value)); }
};

response json_response(unsigned status, std::string body);
response text_response(unsigned status, std::string body, std::string_view content_type);
// {"error": {"code", "message"}} with the error's status (and Retry-After when it carries one).
response error_response(const proto::api_error& error);

// 415 UNSUPPORTED_MEDIA_TYPE unless the body is JSON: it says so, or says nothing at all.
std::optional<response> reject_unless_json(const request& req);

// Appends the HTTP/1.1 form of `res` to `out`, with Content-Length and the connection's fate.
void append_wire(std::string& out, const response& res, bool keep_alive);

}  // namespace monolite::server
