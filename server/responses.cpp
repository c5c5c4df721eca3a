#include "server/responses.hpp"

#include <boost/json/serialize.hpp>

namespace monolite::server {

response text_response(http::status status, std::string body, std::string_view content_type) {
  response res{status, 11};
  res.set(http::field::content_type, content_type);
  res.set(http::field::server, "monolite");
  res.body() = std::move(body);
  return res;
}

response json_response(http::status status, std::string body) {
  return text_response(status, std::move(body), "application/json");
}

response error_response(const proto::api_error& error) {
  auto res = json_response(static_cast<http::status>(error.status), boost::json::serialize(to_json(error)));
  if (error.retry_after) res.set(http::field::retry_after, std::to_string(error.retry_after));
  return res;
}

}  // namespace monolite::server
