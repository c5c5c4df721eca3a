// The API's error value: an HTTP status, a stable code and a human message.
// Expected failures travel as api_error inside boost::system::result<T, api_error>.
#pragma once
#include <boost/assert/source_location.hpp>
#include <boost/json/value.hpp>
#include <boost/system/result.hpp>
#include <string>

namespace monolite::proto {

struct api_error {
  unsigned status = 500;
  std::string code;
  std::string message;
  // Seconds for Retry-After; 0 means the header is not sent.
  unsigned retry_after = 0;
  // PostgreSQL's SQLSTATE (e.g. "23505") when PostgreSQL gave the error; empty with SQLite.
  std::string sqlstate = {};
};

template <class T>
using result = boost::system::result<T, api_error>;

// {"error": {"code", "message"}}, plus "sqlstate" inside when there is one.
boost::json::value to_json(const api_error& error);

api_error bad_json(std::string message);
api_error bad_request(std::string message);
api_error bad_params(std::string message);
api_error overloaded(std::string message);
api_error not_ready(std::string message);
// 503 READ_ONLY: the server refuses writes for now (POST /admin/read-only, --read-only).
api_error read_only(std::string message);
api_error internal_error(std::string message);

// Lets result<T, api_error>::value() throw; only for code paths where failure is a bug.
[[noreturn]] void throw_exception_from_error(const api_error& error, const boost::source_location& location);

}  // namespace monolite::proto
