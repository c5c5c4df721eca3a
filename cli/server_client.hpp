// Talking to a running `monolite serve` from another command (advise, move --cutover): its URL,
// and one admin request whose answer is a JSON object, or a message saying why not.
#pragma once
#include <boost/json/object.hpp>
#include <boost/system/result.hpp>
#include <chrono>
#include <string>

#include "cli/options.hpp"
#include "replica/s3/http.hpp"

namespace monolite::cli {

// http[s]://host[:port][/...]; the path is ignored. `flag` names the option in the message.
usage_result<replica::s3_endpoint> parse_server_url(const std::string& url, const std::string& flag = "url");

struct server_call {
  std::string method = "GET";
  std::string path;
  std::string body;   // JSON, sent when not empty
  std::string token;  // bearer token, sent when not empty
  std::chrono::milliseconds timeout{10000};
};

// The reply's JSON object when the server answered 200; otherwise the server's error message (the
// contract's {"error": {"message"}}) or why it could not be reached.
boost::system::result<boost::json::object, std::string> call_server(const replica::s3_endpoint& endpoint,
                                                                    const server_call& call);

}  // namespace monolite::cli
