#include "cli/commands.hpp"

#include <sqlite3.h>

#include <boost/version.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "cli/advise_command.hpp"
#include "cli/catalog_commands.hpp"
#include "cli/command_support.hpp"
#include "cli/move_command.hpp"
#include "cli/portability_command.hpp"
#include "cli/restore_command.hpp"
#include "cli/serve_command.hpp"
#include "cli/verify_command.hpp"

namespace monolite::cli {
namespace {

constexpr const char* overview =
    "monolite — SQLite in WAL mode behind an HTTP/JSON API, one process.\n\n"
    "Usage: monolite <command> [flags]\n\n"
    "Commands:\n"
    "  serve        run the server\n"
    "  restore      rebuild a database from a replica\n"
    "  generations  list the generations a replica holds\n"
    "  snapshots    list the snapshots a replica holds\n"
    "  verify       restore into a temporary folder and compare with the live database\n"
    "  move         copy the database into PostgreSQL and verify the copy\n"
    "  portability  check that the statements the server ran work in PostgreSQL\n"
    "  advise       read a running server's /admin/status: is it time to move off SQLite?\n"
    "  version      print monolite, SQLite and Boost versions\n\n"
    "Run 'monolite <command> --help' for a command's flags.\n";

int run_version(const std::vector<std::string>& args) {
  if (wants_help(args)) {
    std::cout << "Usage: monolite version\n\nPrints the versions of monolite, SQLite and Boost.\n";
    return 0;
  }
  if (!args.empty()) return usage_failure("version takes no arguments");
  std::cout << "monolite " << MONOLITE_VERSION << "\nSQLite " << sqlite3_libversion() << "\nBoost "
            << BOOST_VERSION / 100000 << "." << BOOST_VERSION / 100 % 1000 << "." << BOOST_VERSION % 100 << "\n";
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << overview;
    return args.empty() ? 2 : 0;
  }
  const std::string command = args[0];
  args.erase(args.begin());
  if (command == "serve") return run_serve(args);
  if (command == "version" || command == "--version") return run_version(args);
  if (command == "restore") return run_restore(args);
  if (command == "generations") return run_generations(args);
  if (command == "snapshots") return run_snapshots(args);
  if (command == "verify") return run_verify(args);
  if (command == "move") return run_move(args);
  if (command == "portability") return run_portability(args);
  if (command == "advise") return run_advise(args);
  return usage_failure("unknown command '" + command + "'");
}

}  // namespace monolite::cli
