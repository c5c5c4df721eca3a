// Retention: which replica objects may go, given the catalog, the generation being written and
// the oldest time a restore must still reach. Pure, so the rule is tested on its own.
// Rule: a restore to any time T ≥ cutoff needs the newest snapshot at or before T and every
// segment after it. So per generation keep the newest snapshot at or before the cutoff (the
// "anchor") and everything after it; an older generation goes whole once a newer one has a
// snapshot at or before the cutoff — never the one being written. Segments another segment holds
// entirely (left by an interrupted compaction) go at once.
#pragma once
#include <string>
#include <vector>

#include "replica/format/layout.hpp"

namespace monolite::replica::retention {

std::vector<std::string> expired_keys(const std::vector<layout::generation>& catalog, const std::string& current,
                                      std::int64_t cutoff_ms);

}  // namespace monolite::replica::retention
