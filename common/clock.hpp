// Wall-clock time as the replica layout and logs write it: milliseconds since the Unix epoch.
#pragma once
#include <chrono>
#include <cstdint>

namespace monolite {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace monolite
