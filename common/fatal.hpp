// What happens to an exception nobody expected (docs/architecture.md, "Exceptions"): on any
// thread — HTTP, database, replication — it is a bug whose damage to in-memory state is unknown,
// so the process logs it and aborts, and the supervisor restarts it; a committed write is in the
// WAL and survives. The one place that recovers is a route handler (server/router.cpp), which
// answers that request 500 INTERNAL: nothing shared was touched yet.
#pragma once
#include <exception>
#include <string_view>

namespace monolite::fatal {

// std::set_terminate: every uncaught exception, on every thread, goes through die().
void install_terminate_handler();

// Logs `where` and the current exception (if any) as one JSON line, then aborts.
[[noreturn]] void die(std::string_view where) noexcept;

// The text of the exception being handled, for logs ("unknown exception" if it is not a std::exception).
std::string_view current_exception_text() noexcept;

}  // namespace monolite::fatal
