#include "common/fatal.hpp"

#include <cstdlib>

#include "common/log.hpp"

namespace monolite::fatal {

std::string_view current_exception_text() noexcept {
  const auto current = std::current_exception();
  if (!current) return "no exception";
  try {
    std::rethrow_exception(current);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown exception";
  }
}

void die(std::string_view where) noexcept {
  try {
    log::error("unexpected exception; terminating", {{"where", where}, {"error", current_exception_text()}});
  } catch (...) {}
  std::abort();
}

void install_terminate_handler() {
  std::set_terminate([] { die("uncaught"); });
}

}  // namespace monolite::fatal
