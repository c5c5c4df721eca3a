// The monolite command line: subcommands, --help, exit codes (0 ok, 1 runtime failure, 2 usage).
#pragma once

namespace monolite::cli {

int run(int argc, char** argv);

}  // namespace monolite::cli
