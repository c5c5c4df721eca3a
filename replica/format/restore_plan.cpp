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

// The segments after the snapshot, checked to form one unbroken chain.
plan_result chain_segments(const layout::generation& g, const layout::snapshot_entry& snap, const restore_target& t) {
  restore_plan plan{g.id, snap, {}};
  position at = snap.at;
  for (const auto& seg : g.segments) {
    if (position{seg.index, seg.last_frame} <= at) continue;
    if (t.timestamp_ms && seg.first_time_ms > *t.timestamp_ms) break;
    if (t.stop_at && *t.stop_at < position{seg.index, seg.first_frame}) break;
    const bool same_index = seg.index == at.index && seg.first_frame <= at.frame + 1;
    const bool next_index = seg.index == at.index + 1 && seg.first_frame == 1;
    if (!same_index && !next_index)
      return refuse("generation " + g.id + ": WAL segments are missing after " + describe(at) +
                    " (the next one starts at " + describe({seg.index, seg.first_frame}) +
                    "); restore an earlier time or another generation");
    plan.segments.push_back(seg);
    at = {seg.index, seg.last_frame};
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
