#include "pg/error.hpp"

#include <stdexcept>

namespace monolite::pg {

std::string error::describe() const {
  std::string out = message;
  if (!detail.empty()) out += " (" + detail + ")";
  if (!hint.empty()) out += " hint: " + hint;
  if (!sqlstate.empty()) out += " [" + sqlstate + "]";
  return out;
}

error connection_error(std::string message) { return error{"08006", std::move(message), {}, {}, 0, {}}; }

void throw_exception_from_error(const error& e, const boost::source_location&) {
  throw std::runtime_error("postgresql: " + e.describe());
}

}  // namespace monolite::pg
