#include "replica/compactor.hpp"

#include "replica/format/lz4.hpp"
#include "replica/format/segment_merge.hpp"
#include "replica/format/wal_segment.hpp"
#include "replica/resume.hpp"

namespace monolite::replica {

namespace {
using run = std::vector<layout::segment_entry>;

bool extends(const run& r, const layout::segment_entry& s, std::uint64_t run_bytes, const compaction_options& o) {
  if (r.empty()) return false;
  const auto& last = r.back();
  return s.index == last.index && s.first_frame == last.last_frame + 1 && run_bytes + s.size <= o.max_bytes;
}

bool cancelled(const compaction_options& o) { return o.cancelled && o.cancelled(); }

// A run merged so far: the merger, the parts it took, and where in the run to go on from.
struct merging {
  std::optional<segment_merger> merger;
  std::vector<std::string> keys;
  std::size_t next = 0;
};

// Downloads parts from `r[from]` on into one merged segment, stopping before its frames would
// pass max_bytes. An error value: a store failure (the pass ends); a part that does not decode or
// chain is reported in `skipped`, and the merge stops before it (going on after it).
store_result<merging> merge_run(object_store& store, const run& r, std::size_t from, const compaction_options& o,
                                compaction_report& report) {
  merging m;
  for (m.next = from; m.next < r.size() && !cancelled(o); ++m.next) {
    const auto& part = r[m.next];
    auto bytes = store.get(part.key);
    if (!bytes) return bytes.error();
    auto raw = lz4::decompress(*bytes);
    auto segment = raw ? decode_segment(*raw) : proto::result<wal_segment>(raw.error());
    std::string refused;
    if (!segment) {
      refused = segment.error().message;
    } else if (!m.merger) {
      m.merger.emplace(std::move(*segment));
    } else if (m.merger->merged().frames.size() + segment->frames.size() > o.max_bytes) {
      break;
    } else if (auto appended = m.merger->append(*segment); !appended) {
      refused = appended.error();
    }
    if (!refused.empty()) {
      report.skipped.push_back(part.key + ": " + refused);
      if (m.keys.empty()) ++m.next;  // nothing merged yet: go on after it
      break;
    }
    m.keys.push_back(part.key);
  }
  return m;
}

// Uploads the merged segment, then deletes its parts: never the other way round.
store_result<void> replace_run(object_store& store, const std::string& generation, const merging& m,
                               compaction_report& report) {
  const wal_segment& merged = m.merger->merged();
  const std::string key = layout::segment_key(generation, merged.index, merged.first_frame, merged.last_frame(),
                                              merged.commit_times_ms.front(), merged.commit_times_ms.back());
  if (auto put = store.put(key, lz4::compress(encode_segment(merged))); !put) return put.error();
  ++report.merged;
  if (auto removed = store.remove(m.keys); !removed) return removed.error();
  report.replaced += m.keys.size();
  return {};
}
}  // namespace

std::vector<run> compaction_runs(const layout::generation& g, const compaction_options& o) {
  std::vector<run> runs;
  run current;
  std::uint64_t bytes = 0;
  auto close = [&] {
    if (current.size() >= std::max<std::size_t>(o.min_run, 2)) runs.push_back(std::move(current));
    current.clear(), bytes = 0;
  };
  for (const auto& s : g.segments) {
    if (s.size >= o.small_bytes || !extends(current, s, bytes, o)) close();
    if (s.size >= o.small_bytes) continue;
    current.push_back(s);
    bytes += s.size;
  }
  close();
  return runs;
}

compaction_result compact_generation(object_store& store, const layout::generation& g, const compaction_options& o) {
  compaction_report report;
  std::vector<std::string> leftovers;
  for (const auto& s : g.redundant)
    leftovers.push_back(s.key);
  if (!leftovers.empty()) {
    if (auto removed = store.remove(leftovers); !removed) return removed.error();
    report.redundant = leftovers.size();
  }
  for (const auto& r : compaction_runs(g, o)) {
    for (std::size_t from = 0; from + 1 < r.size() && !cancelled(o);) {
      auto m = merge_run(store, r, from, o, report);
      if (!m) return m.error();
      from = m->next;
      if (m->keys.size() < 2) continue;  // one part alone gains nothing
      if (auto replaced = replace_run(store, g.id, *m, report); !replaced) return replaced.error();
    }
  }
  return report;
}

compaction_result compact(object_store& store, const compaction_options& o) {
  auto catalog = read_catalog(store);
  if (!catalog) return catalog.error();
  compaction_report total;
  for (const auto& g : *catalog) {
    if (cancelled(o)) break;
    auto r = compact_generation(store, g, o);
    if (!r) return r.error();
    total.merged += r->merged, total.replaced += r->replaced, total.redundant += r->redundant;
    total.skipped.insert(total.skipped.end(), r->skipped.begin(), r->skipped.end());
  }
  return total;
}

}  // namespace monolite::replica
