#include "cli/server_client.hpp"

#include <boost/json/parse.hpp>

namespace monolite::cli {

usage_result<replica::s3_endpoint> parse_server_url(const std::string& url, const std::string& flag) {
  replica::s3_endpoint out;
  std::string rest;
  if (url.rfind("http://", 0) == 0) {
    out.tls = false, rest = url.substr(7);
  } else if (url.rfind("https://", 0) == 0) {
    out.tls = true, rest = url.substr(8);
  } else {
    return usage_error{"--" + flag + ": '" + url + "' must start with http:// or https://"};
  }
  rest = rest.substr(0, rest.find('/'));
  const auto bracket = rest.find(']');
  const auto colon = rest.find(':', bracket == std::string::npos ? 0 : bracket);
  out.host = rest.substr(0, colon);
  out.port = colon == std::string::npos ? (out.tls ? "443" : "80") : rest.substr(colon + 1);
  if (out.host.size() > 1 && out.host.front() == '[') out.host = out.host.substr(1, out.host.size() - 2);
  if (out.host.empty() || out.port.empty()) return usage_error{"--" + flag + ": '" + url + "' has no host:port"};
  return out;
}

boost::system::result<boost::json::object, std::string> call_server(const replica::s3_endpoint& endpoint,
                                                                    const server_call& call) {
  replica::s3_http http(endpoint, {call.timeout, call.timeout});
  replica::http_request request{call.method, call.path, {{"Host", endpoint.authority()}}, call.body};
  if (!call.body.empty()) request.headers.emplace_back("Content-Type", "application/json");
  if (!call.token.empty()) request.headers.emplace_back("Authorization", "Bearer " + call.token);
  auto reply = http.send(request);
  if (!reply) return "cannot reach " + endpoint.url() + ": " + reply.error().message;
  boost::system::error_code ec;
  auto body = boost::json::parse(reply->body, ec);
  if (reply->status != 200) {
    std::string message = reply->body.substr(0, 300);
    if (!ec && body.is_object() && body.as_object().contains("error") && body.at("error").is_object()) {
      const auto& error = body.at("error").as_object();
      if (auto* m = error.if_contains("message"); m && m->is_string()) message = std::string(m->as_string());
    }
    return endpoint.url() + call.path + " answered " + std::to_string(reply->status) + ": " + message;
  }
  if (ec || !body.is_object()) return endpoint.url() + call.path + " answered something that is not a JSON object";
  return std::move(body.as_object());
}

}  // namespace monolite::cli
