#include <exception>

#include "cli/commands.hpp"
#include "common/fatal.hpp"
#include "common/log.hpp"

int main(int argc, char** argv) {
  monolite::fatal::install_terminate_handler();
  try {
    return monolite::cli::run(argc, argv);
  } catch (const std::exception& e) {
    // Only the main thread before any server thread exists, or a subcommand (restore, verify):
    // nothing else runs, so exiting 1 is as safe as aborting and reads better.
    monolite::log::error("unexpected failure", {{"error", e.what()}});
    return 1;
  }
}
