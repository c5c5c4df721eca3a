#include "proto/error.hpp"

#include <boost/json/object.hpp>
#include <stdexcept>

#include "proto/text.hpp"

namespace monolite::proto {

boost::json::value to_json(const api_error& error) {
  // Messages may quote SQL text or SQLite values, which may hold any bytes.
  boost::json::object inner{{"code", error.code}, {"message", valid_utf8(error.message)}};
  if (!error.sqlstate.empty()) inner["sqlstate"] = error.sqlstate;
  return boost::json::object{{"error", std::move(inner)}};
}

api_error bad_json(std::string message) { return {400, "BAD_JSON", std::move(message)}; }
api_error bad_request(std::string message) { return {400, "BAD_REQUEST", std::move(message)}; }
api_error bad_params(std::string message) { return {400, "BAD_PARAMS", std::move(message)}; }
api_error overloaded(std::string message) { return {503, "OVERLOADED", std::move(message), 1}; }
api_error not_ready(std::string message) { return {503, "NOT_READY", std::move(message), 1}; }
api_error read_only(std::string message) { return {503, "READ_ONLY", std::move(message), 1}; }
api_error internal_error(std::string message) { return {500, "INTERNAL", std::move(message)}; }

void throw_exception_from_error(const api_error& error, const boost::source_location&) {
  throw std::runtime_error(error.code + ": " + error.message);
}

}  // namespace monolite::proto
