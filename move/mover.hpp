// `monolite move` without the command line: SQLite snapshot → staging schema → verified →
// one transaction into the target schema. Exit codes: 0 ok, 1 verify failed or mismatches,
// 3 connection or other error (2, usage, is the command line's).
#pragma once
#include <string>

#include "move/report.hpp"

namespace monolite::move {

struct move_options {
  std::string db_path;
  std::string url;
  std::string schema = "public";
  bool mismatch_as_text = false;
  int jobs = 2;
  bool verify_only = false;
  bool replace = false;
  bool progress = false;  // lines on stderr (a terminal)
};

struct move_outcome {
  int exit_code = 0;
  std::string error;  // why, when exit_code is not 0
  report summary;
};

move_outcome run_move(const move_options& options);

}  // namespace monolite::move
