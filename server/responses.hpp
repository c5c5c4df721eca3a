// Building HTTP responses: JSON bodies, and the JSON error shape for every failure.
#pragma once
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>

#include "proto/error.hpp"

namespace monolite::server {

namespace http = boost::beast::http;
using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

response json_response(http::status status, std::string body);
response text_response(http::status status, std::string body, std::string_view content_type);
// {"error": {"code", "message"}} with the error's status (and Retry-After when it carries one).
response error_response(const proto::api_error& error);

}  // namespace monolite::server
