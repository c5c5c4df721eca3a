// Which objects a restore needs: the generation, its newest snapshot at or before the target,
// and the chain of WAL segments after it — with gaps refused, naming where the chain breaks.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "replica/format/layout.hpp"

namespace monolite::replica {

struct restore_target {
  std::string generation;                    // empty: whichever covers the target
  std::optional<std::int64_t> timestamp_ms;  // empty: the newest state
  std::optional<layout::position> stop_at;   // exactly this position in the newest generation
};

struct restore_plan {
  std::string generation;
  layout::snapshot_entry snapshot;
  std::vector<layout::segment_entry> segments;
};

boost::system::result<restore_plan, std::string> plan_restore(const std::vector<layout::generation>& catalog,
                                                              const restore_target& target);

}  // namespace monolite::replica
