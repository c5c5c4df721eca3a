#include <boost/test/unit_test.hpp>

#include "replica/format/layout.hpp"
#include "replica/format/restore_plan.hpp"
#include "replica/format/retention.hpp"

using namespace monolite::replica;
using layout::position;

namespace {
constexpr std::int64_t t0 = 1795300000000;  // 2026-11-21T22:26:40Z
constexpr std::int64_t second = 1000;

// A generation with snapshots at (index, frame, time) and segments (index, first, last, t1, t2).
struct gen_builder {
  explicit gen_builder(std::string generation) : id(std::move(generation)) {}
  std::string id;
  std::vector<layout::listed_object> objects;
  gen_builder& snap(std::uint32_t index, std::uint32_t frame, std::int64_t time) {
    objects.push_back({layout::snapshot_key(id, {index, frame}, time), 10});
    return *this;
  }
  gen_builder& seg(std::uint32_t index, std::uint32_t first, std::uint32_t last, std::int64_t t1, std::int64_t t2) {
    objects.push_back({layout::segment_key(id, index, first, last, t1, t2), 10});
    return *this;
  }
};

std::vector<layout::generation> catalog_of(std::initializer_list<gen_builder> gens) {
  std::vector<layout::listed_object> all;
  for (const auto& g : gens)
    all.insert(all.end(), g.objects.begin(), g.objects.end());
  return layout::parse_catalog(all);
}
}  // namespace

BOOST_AUTO_TEST_SUITE(replica_layout)

BOOST_AUTO_TEST_CASE(names_carry_positions_and_commit_times_and_parse_back) {
  const auto id = layout::new_generation_id(t0, 0xabcdef01);
  BOOST_TEST(id == "20261121T222640Z-abcdef01");
  const auto key = layout::segment_key(id, 3, 17, 40, t0 + 5, t0 + 999);
  BOOST_TEST(key ==
             "generations/" + id + "/wal/00000003-00000011-00000028_20261121T222640.005Z_20261121T222640.999Z.wal.lz4");
  auto catalog = layout::parse_catalog(
      {{key, 5}, {layout::snapshot_key(id, {3, 16}, t0), 7}, {"generations/x/junk", 1}, {"unrelated.txt", 1}});
  BOOST_REQUIRE(catalog.size() == 1u);
  BOOST_TEST(catalog[0].segments.at(0).first_frame == 17u);
  BOOST_TEST(catalog[0].segments.at(0).last_time_ms == t0 + 999);
  BOOST_TEST(catalog[0].snapshots.at(0).at.frame == 16u);
  BOOST_TEST(catalog[0].bytes == 12u);
  BOOST_TEST((catalog[0].end() == position{3, 40}));
}

BOOST_AUTO_TEST_CASE(rfc3339_times_parse_with_fractions_and_offsets) {
  BOOST_TEST(layout::parse_rfc3339("2026-11-21T22:26:40Z").value() == t0);
  BOOST_TEST(layout::parse_rfc3339("2026-11-21T22:26:40.25Z").value() == t0 + 250);
  BOOST_TEST(layout::parse_rfc3339("2026-11-22T00:26:40+02:00").value() == t0);
  BOOST_TEST(layout::parse_rfc3339("2026-11-21T20:56:40-01:30").value() == t0);
  BOOST_TEST(layout::rfc3339_time(t0 + 7) == "2026-11-21T22:26:40.007Z");
  for (const char* bad : {"2026-11-21", "2026-13-21T06:33:20Z", "2026-11-21T06:33:20", "2026-11-21T06:33:20.Z",
                          "yesterday", "2026-11-21T06:33:20+2"})
    BOOST_TEST(!layout::parse_rfc3339(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(restore_plan_picks_the_newest_snapshot_at_or_before_the_time_and_chains_segments) {
  gen_builder g{"20261121T000000Z-00000001"};
  g.snap(0, 0, t0)
      .seg(0, 1, 10, t0 + 1 * second, t0 + 2 * second)
      .seg(0, 11, 20, t0 + 3 * second, t0 + 4 * second)
      .snap(0, 20, t0 + 5 * second)
      .seg(1, 1, 5, t0 + 6 * second, t0 + 7 * second);
  const auto catalog = catalog_of({g});
  auto latest = plan_restore(catalog, {});
  BOOST_REQUIRE(latest.has_value());
  BOOST_TEST((latest->snapshot.at == position{0, 20}));
  BOOST_TEST(latest->segments.size() == 1u);
  auto earlier = plan_restore(catalog, {"", t0 + 3 * second, {}});
  BOOST_REQUIRE(earlier.has_value());
  BOOST_TEST((earlier->snapshot.at == position{0, 0}));
  BOOST_TEST(earlier->segments.size() == 2u);  // the second starts at the target time: its commits decide
  auto too_early = plan_restore(catalog, {"", t0 - 1, {}});
  BOOST_REQUIRE(too_early.has_error());
  BOOST_TEST(too_early.error().find("no snapshot at or before") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(restore_plan_refuses_gaps_naming_where_the_chain_breaks) {
  gen_builder g{"20261121T000000Z-00000001"};
  g.snap(0, 0, t0).seg(0, 1, 10, t0 + 1, t0 + 2).seg(0, 12, 20, t0 + 3, t0 + 4);
  auto plan = plan_restore(catalog_of({g}), {});
  BOOST_REQUIRE(plan.has_error());
  BOOST_TEST(plan.error().find("missing after index 0 frame 10") != std::string::npos, plan.error());
  gen_builder skipped_index{"20261121T000000Z-00000002"};
  skipped_index.snap(0, 0, t0).seg(2, 1, 3, t0 + 1, t0 + 2);
  BOOST_TEST(plan_restore(catalog_of({skipped_index}), {}).has_error());
  BOOST_TEST(plan_restore({}, {}).error() == "the replica holds no generation");
  BOOST_TEST(plan_restore(catalog_of({g}), {"nope", {}, {}}).error().find("no generation nope") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(restore_plan_falls_back_to_an_older_generation_for_an_older_time) {
  gen_builder old_gen{"20261121T000000Z-00000001"}, new_gen{"20261121T010000Z-00000002"};
  old_gen.snap(0, 0, t0).seg(0, 1, 5, t0 + 1, t0 + 2);
  new_gen.snap(0, 9, t0 + 3600 * second);
  auto plan = plan_restore(catalog_of({old_gen, new_gen}), {"", t0 + 60 * second, {}});
  BOOST_REQUIRE(plan.has_value());
  BOOST_TEST(plan->generation == old_gen.id);
  auto latest = plan_restore(catalog_of({old_gen, new_gen}), {});
  BOOST_REQUIRE(latest.has_value());
  BOOST_TEST(latest->generation == new_gen.id);
}

BOOST_AUTO_TEST_CASE(retention_keeps_the_anchor_snapshot_and_everything_after_it) {
  gen_builder g{"20261121T000000Z-00000001"};
  g.snap(0, 0, t0)
      .seg(0, 1, 10, t0 + 1, t0 + 2)
      .snap(0, 10, t0 + 10 * second)
      .seg(0, 11, 20, t0 + 11 * second, t0 + 12 * second)
      .snap(0, 20, t0 + 20 * second)
      .seg(0, 21, 30, t0 + 21 * second, t0 + 22 * second);
  const auto catalog = catalog_of({g});
  // Cutoff between the 2nd and 3rd snapshot: the 2nd is the anchor; the 1st and the first segment go.
  auto doomed = retention::expired_keys(catalog, g.id, t0 + 15 * second);
  BOOST_TEST(doomed.size() == 2u);
  for (const auto& k : doomed)
    BOOST_TEST((k.find("00000000-00000000_") != std::string::npos ||
                k.find("00000000-00000001-0000000a") != std::string::npos),
               k);
  // A restore to the cutoff still plans without gaps once those are gone.
  std::vector<layout::listed_object> kept;
  for (const auto& o : g.objects)
    if (std::find(doomed.begin(), doomed.end(), o.key) == doomed.end()) kept.push_back(o);
  BOOST_TEST(plan_restore(layout::parse_catalog(kept), {"", t0 + 15 * second, {}}).has_value());
  BOOST_TEST(retention::expired_keys(catalog, g.id, t0 - 1).empty());  // nothing is old enough
}

BOOST_AUTO_TEST_CASE(retention_drops_old_generations_only_once_a_newer_one_covers_the_window) {
  gen_builder old_gen{"20261121T000000Z-00000001"}, new_gen{"20261121T010000Z-00000002"};
  old_gen.snap(0, 0, t0).seg(0, 1, 5, t0 + 1, t0 + 2);
  new_gen.snap(0, 0, t0 + 100 * second);
  const auto catalog = catalog_of({old_gen, new_gen});
  BOOST_TEST(retention::expired_keys(catalog, new_gen.id, t0 + 50 * second).empty());  // window reaches back into old
  BOOST_TEST(retention::expired_keys(catalog, new_gen.id, t0 + 150 * second).size() == 2u);
  // The generation being written is never dropped whole, even when a newer one exists.
  BOOST_TEST(retention::expired_keys(catalog, old_gen.id, t0 + 150 * second).empty());
}

BOOST_AUTO_TEST_SUITE_END()
