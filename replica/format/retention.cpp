#include "replica/format/retention.hpp"

namespace monolite::replica::retention {

namespace {

bool restorable(const layout::generation& g) { return !g.snapshots.empty(); }

void expire_within(const layout::generation& g, std::int64_t cutoff_ms, std::vector<std::string>& out) {
  for (const auto& seg : g.redundant)  // another segment holds their frames: never needed
    out.push_back(seg.key);
  const layout::snapshot_entry* anchor = nullptr;
  for (const auto& s : g.snapshots)
    if (s.time_ms <= cutoff_ms && (!anchor || anchor->at < s.at)) anchor = &s;
  if (!anchor) return;  // every snapshot is inside the window: all of it may be needed
  for (const auto& s : g.snapshots)
    if (s.at < anchor->at) out.push_back(s.key);
  for (const auto& seg : g.segments)
    if (layout::position{seg.index, seg.last_frame} <= anchor->at) out.push_back(seg.key);
}

}  // namespace

std::vector<std::string> expired_keys(const std::vector<layout::generation>& catalog, const std::string& current,
                                      std::int64_t cutoff_ms) {
  std::vector<std::string> out;
  // Walking newest first: the first snapshot time of the nearest newer restorable generation.
  // Once that is at or before the cutoff, every restore inside the window is served from there.
  std::optional<std::int64_t> newer_start;
  for (auto g = catalog.rbegin(); g != catalog.rend(); ++g) {
    const bool whole = g->id != current && newer_start && *newer_start <= cutoff_ms;
    if (whole) {
      for (const auto& s : g->snapshots)
        out.push_back(s.key);
      for (const auto& s : g->segments)
        out.push_back(s.key);
      for (const auto& s : g->redundant)
        out.push_back(s.key);
    } else {
      expire_within(*g, cutoff_ms, out);
    }
    if (restorable(*g)) newer_start = g->first_time_ms();
  }
  return out;
}

}  // namespace monolite::replica::retention
