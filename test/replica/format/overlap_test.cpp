// Overlapping WAL segments: a merged segment next to some or all of its parts, as an interrupted
// compaction leaves them (replica/compactor.hpp). Plans, the catalog and retention must cope.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "replica/format/layout.hpp"
#include "replica/format/restore_plan.hpp"
#include "replica/format/retention.hpp"
#include "support/catalog_builder.hpp"

using namespace monolite::replica;
using layout::position;
using monolite::test::catalog_of;
using monolite::test::gen_builder;

namespace {
constexpr std::int64_t t0 = 1795300000000;  // 2026-11-21T22:26:40Z
constexpr std::int64_t second = 1000;

// Frames (first, last) of each planned segment.
std::vector<std::pair<std::uint32_t, std::uint32_t>> frames_of(const restore_plan& plan) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  for (const auto& s : plan.segments)
    out.emplace_back(s.first_frame, s.last_frame);
  return out;
}
using frames = std::vector<std::pair<std::uint32_t, std::uint32_t>>;

// Snapshot at frame 0, parts 1..3 (one commit a second), their merge [1-3], then part 4.
gen_builder merged_and_parts() {
  gen_builder g{"20261121T000000Z-00000001"};
  g.snap(0, 0, t0)
      .seg(0, 1, 1, t0 + 1 * second, t0 + 1 * second)
      .seg(0, 2, 2, t0 + 2 * second, t0 + 2 * second)
      .seg(0, 3, 3, t0 + 3 * second, t0 + 3 * second)
      .seg(0, 1, 3, t0 + 1 * second, t0 + 3 * second)
      .seg(0, 4, 4, t0 + 4 * second, t0 + 4 * second);
  return g;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(replica_overlap)

BOOST_AUTO_TEST_CASE(a_plan_takes_the_merged_segment_and_none_of_its_parts) {
  const auto catalog = catalog_of({merged_and_parts()});
  auto latest = plan_restore(catalog, {});
  BOOST_REQUIRE(latest.has_value());
  BOOST_TEST((frames_of(*latest) == frames{{1, 3}, {4, 4}}));
  // A time inside the merged run: the merged segment, whose per-commit times stop the replay.
  auto middle = plan_restore(catalog, {"", t0 + 2 * second + 500, {}});
  BOOST_REQUIRE(middle.has_value());
  BOOST_TEST((frames_of(*middle) == frames{{1, 3}}));
  auto exact = plan_restore(catalog, {"", {}, position{0, 2}});
  BOOST_REQUIRE(exact.has_value());
  BOOST_TEST((frames_of(*exact) == frames{{1, 3}}));
}

BOOST_AUTO_TEST_CASE(a_plan_over_partial_overlaps_takes_the_segment_reaching_furthest) {
  gen_builder g{"20261121T000000Z-00000001"};
  g.snap(0, 0, t0)
      .seg(0, 1, 3, t0 + 1, t0 + 3)
      .seg(0, 2, 5, t0 + 2, t0 + 5)
      .seg(0, 4, 8, t0 + 4, t0 + 8)
      .seg(0, 9, 9, t0 + 9, t0 + 9)
      .seg(1, 1, 2, t0 + 10, t0 + 11);
  auto plan = plan_restore(catalog_of({g}), {});
  BOOST_REQUIRE(plan.has_value());
  BOOST_TEST((frames_of(*plan) == frames{{1, 3}, {4, 8}, {9, 9}, {1, 2}}));
  // A snapshot inside a merged segment: the segment is still needed for the frames after it.
  gen_builder later{"20261121T000000Z-00000002"};
  later.snap(0, 2, t0).seg(0, 1, 3, t0 + 1, t0 + 3).seg(0, 1, 1, t0 + 1, t0 + 1).seg(0, 4, 4, t0 + 4, t0 + 4);
  auto from_middle = plan_restore(catalog_of({later}), {});
  BOOST_REQUIRE(from_middle.has_value());
  BOOST_TEST((frames_of(*from_middle) == frames{{1, 3}, {4, 4}}));
}

BOOST_AUTO_TEST_CASE(a_gap_is_still_refused_when_segments_overlap) {
  gen_builder g{"20261121T000000Z-00000001"};
  g.snap(0, 0, t0).seg(0, 1, 3, t0 + 1, t0 + 3).seg(0, 2, 3, t0 + 2, t0 + 3).seg(0, 5, 6, t0 + 5, t0 + 6);
  auto plan = plan_restore(catalog_of({g}), {});
  BOOST_REQUIRE(plan.has_error());
  BOOST_TEST(plan.error().find("missing after index 0 frame 3") != std::string::npos, plan.error());
}

BOOST_AUTO_TEST_CASE(the_catalog_ends_with_the_newest_segment_when_a_part_outlives_its_merge) {
  // Parts 1..5 merged; deleting the parts stopped after 1: part 2 sorts after [1-5] by first frame.
  gen_builder g{"20261121T000000Z-00000001"};
  g.snap(0, 0, t0).seg(0, 1, 5, t0 + 1, t0 + 5).seg(0, 2, 2, t0 + 2, t0 + 2).seg(0, 3, 3, t0 + 3, t0 + 3);
  const auto catalog = catalog_of({g});
  BOOST_REQUIRE(catalog.size() == 1u);
  // Resuming and verify read the generation's last segment as its newest.
  BOOST_TEST(catalog[0].segments.back().last_frame == 5u);
  BOOST_TEST(catalog[0].segments.size() == 1u);
  BOOST_TEST((catalog[0].end() == position{0, 5}));
}

BOOST_AUTO_TEST_CASE(retention_deletes_the_parts_a_merged_segment_holds_even_inside_the_window) {
  const auto g = merged_and_parts();
  const auto catalog = catalog_of({g});
  auto doomed = retention::expired_keys(catalog, g.id, t0 - 1);  // nothing has aged out
  std::sort(doomed.begin(), doomed.end());
  std::vector<std::string> parts{g.key(0, 1, 1, t0 + 1 * second, t0 + 1 * second),
                                 g.key(0, 2, 2, t0 + 2 * second, t0 + 2 * second),
                                 g.key(0, 3, 3, t0 + 3 * second, t0 + 3 * second)};
  std::sort(parts.begin(), parts.end());
  BOOST_TEST(doomed == parts, boost::test_tools::per_element());
  // Past the window, an anchor at frame 2 keeps the merged segment: its frame 3 is still needed.
  gen_builder anchored = merged_and_parts();
  anchored.snap(0, 2, t0 + 2 * second);
  auto aged = retention::expired_keys(catalog_of({anchored}), g.id, t0 + 2 * second);
  BOOST_TEST(std::count(aged.begin(), aged.end(), g.key(0, 1, 3, t0 + 1 * second, t0 + 3 * second)) == 0);
  BOOST_TEST(std::count(aged.begin(), aged.end(), g.key(0, 4, 4, t0 + 4 * second, t0 + 4 * second)) == 0);
  BOOST_TEST(aged.size() == 4u);  // the three parts and the first snapshot
  // A generation dropped whole goes with its leftover parts.
  gen_builder newer{"20261121T010000Z-00000002"};
  newer.snap(0, 0, t0 + 100 * second);
  BOOST_TEST(retention::expired_keys(catalog_of({g, newer}), newer.id, t0 + 200 * second).size() == g.objects.size());
}

BOOST_AUTO_TEST_SUITE_END()
