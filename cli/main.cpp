#include <malloc.h>

#include <exception>

#include "cli/commands.hpp"
#include "common/fatal.hpp"
#include "common/log.hpp"

int main(int argc, char** argv) {
  monolite::fatal::install_terminate_handler();
  // Buffers of a MiB or more (WAL segments, upload parts, snapshot chunks) are mapped and unmapped
  // on their own. glibc would otherwise raise this threshold after the first such buffer is freed
  // and carve later ones out of a thread's arena, where pages freed after the last malloc_trim
  // stay resident: a replication backlog must leave no lasting footprint.
  // Fixing it also stops glibc raising the trim threshold with it: keep that at twice the mmap
  // threshold, as glibc's own rule would, so the heap is not trimmed on every burst of frees.
  ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 2 << 20);
  try {
    return monolite::cli::run(argc, argv);
  } catch (const std::exception& e) {
    // Only the main thread before any server thread exists, or a subcommand (restore, verify):
    // nothing else runs, so exiting 1 is as safe as aborting and reads better.
    monolite::log::error("unexpected failure", {{"error", e.what()}});
    return 1;
  }
}
