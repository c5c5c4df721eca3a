#include <exception>
#include <iostream>

#include "cli/commands.hpp"

int main(int argc, char** argv) {
  try {
    return monolite::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "{\"level\":\"error\",\"msg\":\"unexpected failure\",\"error\":\"" << e.what() << "\"}\n";
    return 1;
  }
}
