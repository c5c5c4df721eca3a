// The one error value of the PostgreSQL client: PostgreSQL's own fields when the server said no,
// sqlstate "08000"-like codes of our own when the connection failed.
#pragma once
#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>
#include <string>

namespace monolite::pg {

struct error {
  std::string sqlstate;  // e.g. "23505"; "08006" when the connection failed or broke
  std::string message;
  std::string detail;
  std::string hint;
  int position = 0;       // 1-based character position in the statement, 0 when none
  std::string statement;  // the SQL that failed, when there was one

  // "message (detail; hint) [sqlstate]"
  std::string describe() const;
};

template <class T>
using result = boost::system::result<T, error>;

error connection_error(std::string message);

// Lets result<T, error>::value() throw; only where a failure is a bug.
[[noreturn]] void throw_exception_from_error(const error& e, const boost::source_location& location);

}  // namespace monolite::pg
