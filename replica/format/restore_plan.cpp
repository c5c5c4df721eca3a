#include "replica/format/restore_plan.hpp"

namespace monolite::replica {

namespace {
using plan_result = boost::system::result<restore_plan, std::string>;
using layout::position;

plan_result refuse(std::string message) { return plan_result(boost::system::in_place_error, std::move(message)); }

std::string describe(position p) { return "index " + std::to_string(p.index) + " frame " + std::to_string(p.frame); }

const layout::snapshot_entry* pick_snapshot(const layout::generation& g, const restore_target& t) {
  const layout::snapshot_entry* best = nullptr;
  for (const auto& s : g.snapshots) {
    if (t.timestamp_ms && s.time_ms > *t.timestamp_ms) continue;
    if (t.stop_at && *t.stop_at < s.at) continue;
    if (!best || best->at < s.at) best = &s;
  }
  return best;
}

// Whether `seg` may come next after `at`: it continues the same index without a gap (it may
// repeat frames already applied: restore skips those) or starts the next index.
bool continues(const layout::segment_entry& seg, position at) {
  if (position{seg.index, seg.last_frame} <= at) return false;
  return (seg.index == at.index && seg.first_frame <= at.frame + 1) ||
         (seg.index == at.index + 1 && seg.first_frame == 1);
}

bool within_target(const layout::segment_entry& seg, const restore_target& t) {
  if (t.timestamp_ms && seg.first_time_ms > *t.timestamp_ms) return false;
  return !(t.stop_at && *t.stop_at < position{seg.index, seg.first_frame});
}

// The segments after the snapshot, checked to form one unbroken chain. Where segments overlap
// (a merged segment and some of its parts, docs/replication.md "Compaction"), the one reaching
// furthest is taken, so each frame is downloaded once.
plan_result chain_segments(const layout::generation& g, const layout::snapshot_entry& snap, const restore_target& t) {
  restore_plan plan{g.id, snap, {}};
  position at = snap.at;
  const auto& segs = g.segments;
  std::size_t i = 0;
  while (true) {
    while (i < segs.size() && position{segs[i].index, segs[i].last_frame} <= at)
      ++i;
    if (i == segs.size() || !within_target(segs[i], t)) break;
    const layout::segment_entry* best = nullptr;
    for (std::size_t j = i; j < segs.size() && continues(segs[j], at) && within_target(segs[j], t); ++j) {
      if (best && segs[j].index != best->index) break;  // the next index only once this one is done
      if (!best || best->last_frame < segs[j].last_frame) best = &segs[j];
    }
    if (!best)
      return refuse("generation " + g.id + ": WAL segments are missing after " + describe(at) +
                    " (the next one starts at " + describe({segs[i].index, segs[i].first_frame}) +
                    "); restore an earlier time or another generation");
    plan.segments.push_back(*best);
    at = {best->index, best->last_frame};
  }
  if (t.stop_at && at < *t.stop_at)
    return refuse("generation " + g.id + " reaches only " + describe(at) + ", not " + describe(*t.stop_at));
  return plan;
}

}  // namespace

plan_result plan_restore(const std::vector<layout::generation>& catalog, const restore_target& target) {
  if (catalog.empty()) return refuse("the replica holds no generation");
  for (auto g = catalog.rbegin(); g != catalog.rend(); ++g) {
    if (!target.generation.empty() && g->id != target.generation) continue;
    if (const auto* snap = pick_snapshot(*g, target)) return chain_segments(*g, *snap, target);
    if (!target.generation.empty() || target.stop_at) break;
  }
  if (!target.generation.empty()) {
    bool exists = false;
    for (const auto& g : catalog)
      exists = exists || g.id == target.generation;
    if (!exists) return refuse("the replica has no generation " + target.generation);
  }
  if (target.timestamp_ms)
    return refuse("the replica has no snapshot at or before " + layout::rfc3339_time(*target.timestamp_ms));
  return refuse("the replica holds no snapshot yet");
}

}  // namespace monolite::replica
