// Compaction: a replica in sync mode gets one WAL segment per group commit, and a restore
// fetches and applies each. The compactor replaces runs of small consecutive segments with one
// merged segment each (replica/format/segment_merge.hpp), so restore time follows the data size,
// not the number of commits. Per-commit times are kept: point-in-time restore is unchanged.
// Crash safety: the merged segment is uploaded first and its parts deleted only after; a crash in
// between leaves both, which the catalog sets aside as redundant (layout::generation::redundant)
// and the next pass or retention deletes. The shipper only adds newer segments, so merging older
// ones never races it; the caller keeps retention from running meanwhile.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <boost/system/result.hpp>

#include "replica/format/layout.hpp"
#include "replica/object_store.hpp"

namespace monolite::replica {

struct compaction_options {
  std::uint64_t small_bytes = 1u << 20;  // a stored segment smaller than this is worth merging
  std::uint64_t max_bytes = 16u << 20;   // a merged segment's stored bytes, and its frames, at most
  std::size_t min_run = 8;               // fewer consecutive small segments are left as they are
  std::function<bool()> cancelled;       // polled between objects: stops the pass early
};

struct compaction_report {
  std::size_t merged = 0;            // merged segments uploaded
  std::size_t replaced = 0;          // segments they replaced (deleted)
  std::size_t redundant = 0;         // leftovers of an interrupted pass deleted
  std::vector<std::string> skipped;  // runs left alone, and why (e.g. a part that fails its checks)
};

using compaction_result = boost::system::result<compaction_report, store_error>;

// The runs of one generation worth merging, oldest first: at least min_run consecutive small
// segments of one WAL index, each run within max_bytes. Pure.
std::vector<std::vector<layout::segment_entry>> compaction_runs(const layout::generation& g,
                                                                const compaction_options& options);

// Deletes the generation's redundant segments, then merges its runs. Store failures end the pass.
compaction_result compact_generation(object_store& store, const layout::generation& g,
                                     const compaction_options& options);

// One pass over every generation in the store.
compaction_result compact(object_store& store, const compaction_options& options);

}  // namespace monolite::replica
