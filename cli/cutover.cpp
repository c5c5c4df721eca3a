#include "cli/cutover.hpp"

#include <iostream>

namespace monolite::cli {
namespace {

constexpr int exit_unreachable = 3;

boost::system::result<boost::json::object, std::string> switch_read_only(const cutover_options& options, bool on) {
  return call_server(options.server, {.method = "POST",
                                      .path = "/admin/read-only",
                                      .body = on ? R"({"read_only":true})" : R"({"read_only":false})",
                                      .token = options.token,
                                      .timeout = options.timeout});
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int run_cutover(const cutover_options& options, const std::function<int()>& move) {
  const auto started = std::chrono::steady_clock::now();
  auto switched = switch_read_only(options, true);
  if (!switched) {
    std::cerr << "monolite: cut-over: cannot switch the server to read-only: " << switched.error()
              << "\nNothing was moved; the server serves writes as before.\n";
    return exit_unreachable;
  }
  std::cerr << "cut-over: " << options.server.url() << " is read-only (writes answer 503 READ_ONLY)\n";
  const int moved = move();
  if (moved != 0) {
    auto back = switch_read_only(options, false);
    std::cerr << "monolite: cut-over: the move failed (exit " << moved << "); "
              << (back ? "the server serves writes again\n"
                       : "the server could NOT be switched back: " + back.error() + "\nRun: curl -X POST " +
                             options.server.url() +
                             "/admin/read-only -d '{\"read_only\":false}' (with the admin token)\n");
    return moved;
  }
  std::cerr << "cut-over: done in " << seconds_since(started)
            << " s. The server stays read-only; point the application at " << options.target_url << "\n";
  return 0;
}

}  // namespace monolite::cli
