// The compactor against a file store holding a real sync-mode history: one snapshot, then one
// WAL segment per commit. After compaction, restores (latest and to a time inside a merged run)
// give exactly the rows they gave before.
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include "db/db_image.hpp"
#include "replica/compactor.hpp"
#include "replica/format/lz4.hpp"
#include "replica/restore.hpp"
#include "replica/resume.hpp"
#include "support/catalog_builder.hpp"
#include "support/temp_dir.hpp"
#include "support/wal_db.hpp"
#include "support/wal_segments.hpp"

using namespace monolite;
using namespace monolite::replica;

namespace {
constexpr std::int64_t t0 = 1795300000000;
constexpr std::int64_t step = 1000;  // one commit a second
const std::string generation = "20261121T222640Z-00000001";

template <class T>
T require(store_result<T> result) {
  BOOST_REQUIRE_MESSAGE(result.has_value(), result.error().message);
  return std::move(*result);
}
void require(store_result<void> result) { BOOST_REQUIRE_MESSAGE(result.has_value(), result.error().message); }

// A replica of `commits` single-row inserts after CREATE TABLE (the snapshot holds the table).
struct sync_replica {
  test::temp_dir dir;
  std::unique_ptr<object_store> store = require(open_store("file://" + dir.path().string() + "/replica/"));
  std::vector<std::string> part_keys;
  std::vector<std::string> part_bytes;

  explicit sync_replica(int commits) {
    test::wal_db db(dir.file("source.db"));
    for (int i = 0; i < commits; ++i)
      db.exec("INSERT INTO t(v) VALUES (" + std::to_string(i) + ")");
    const auto segments = test::segments_per_commit(db.wal_bytes(), t0, step);
    lz4::compressor image;
    auto read = db::read_image(db.path, segments[0].last_frame(), [&](std::string_view p) { image.append(p); });
    BOOST_REQUIRE(read.has_value());
    require(store->put(layout::snapshot_key(generation, {0, segments[0].last_frame()}, t0), image.finish()));
    for (std::size_t i = 1; i < segments.size(); ++i) {
      const auto& s = segments[i];
      part_keys.push_back(layout::segment_key(generation, 0, s.first_frame, s.last_frame(), s.commit_times_ms.front(),
                                              s.commit_times_ms.back()));
      part_bytes.push_back(lz4::compress(encode_segment(s)));
      require(store->put(part_keys.back(), part_bytes.back()));
    }
  }
  std::size_t segment_objects() {
    auto catalog = require(read_catalog(*store));
    return catalog.at(0).segments.size() + catalog.at(0).redundant.size();
  }
  // Rows of a restore to `time` (empty: the newest state), and how many segments it applied.
  std::pair<int, std::size_t> restored_rows(std::optional<std::int64_t> time, const std::string& name) {
    restore_request req;
    req.output = dir.file(name);
    req.timestamp_ms = time;
    auto report = restore(*store, req);
    BOOST_REQUIRE_MESSAGE(report.has_value(), report.error().message);
    sqlite3* db = nullptr;
    BOOST_REQUIRE(sqlite3_open(req.output.c_str(), &db) == SQLITE_OK);
    int rows = -1;
    sqlite3_exec(
        db, "SELECT count(*) FROM t",
        [](void* out, int, char** v, char**) { return *static_cast<int*>(out) = std::atoi(v[0]), 0; }, &rows, nullptr);
    sqlite3_close(db);
    return {rows, report->segments};
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(compactor)

BOOST_AUTO_TEST_CASE(runs_are_consecutive_small_segments_of_one_index_within_the_size_cap) {
  test::gen_builder g{generation};  // every object 10 bytes
  g.snap(0, 0, t0);
  for (std::uint32_t f = 1; f <= 10; ++f)
    g.seg(0, f, f, t0 + f, t0 + f);
  g.seg(0, 12, 12, t0 + 12, t0 + 12);  // a gap before it
  for (std::uint32_t f = 1; f <= 3; ++f)
    g.seg(1, f, f, t0 + 20 + f, t0 + 20 + f);
  const auto catalog = test::catalog_of({g});
  compaction_options o;
  o.min_run = 3, o.max_bytes = 40;
  const auto runs = compaction_runs(catalog.at(0), o);
  // [1-4] [5-8] within 40 bytes, [9-10] too short, [12] alone, index 1 [1-3].
  BOOST_REQUIRE(runs.size() == 3u);
  BOOST_TEST(runs[0].size() == 4u);
  BOOST_TEST(runs[1].front().first_frame == 5u);
  BOOST_TEST((runs[2].front().index == 1u && runs[2].size() == 3u));
  o.small_bytes = 10;  // none is small
  BOOST_TEST(compaction_runs(catalog.at(0), o).empty());
}

BOOST_AUTO_TEST_CASE(compaction_replaces_the_parts_and_restores_give_the_same_rows) {
  sync_replica replica(60);
  BOOST_TEST(replica.segment_objects() == 60u);
  compaction_options o;
  o.min_run = 8;
  auto report = compact(*replica.store, o);
  BOOST_REQUIRE_MESSAGE(report.has_value(), report.error().message);
  BOOST_TEST(report->merged == 1u);
  BOOST_TEST(report->replaced == 60u);
  BOOST_TEST(report->skipped.empty());
  BOOST_TEST(replica.segment_objects() == 1u);
  BOOST_TEST((replica.restored_rows({}, "latest.db") == std::pair<int, std::size_t>{60, 1}));
  // Commit i (1-based) happened at t0 + i s: half-way between the 25th and 26th, 25 rows.
  BOOST_TEST(replica.restored_rows(t0 + 25 * step + 500, "pitr.db").first == 25);
  // A second pass finds nothing more to do.
  auto again = compact(*replica.store, o);
  BOOST_REQUIRE(again.has_value());
  BOOST_TEST(again->merged == 0u);
}

BOOST_AUTO_TEST_CASE(a_pass_interrupted_before_deleting_the_parts_restores_the_same_and_is_finished_later) {
  sync_replica replica(30);
  compaction_options o;
  o.min_run = 4;
  BOOST_REQUIRE(compact(*replica.store, o).has_value());
  for (std::size_t i = 0; i < replica.part_keys.size(); ++i)  // as if the process died before the delete
    require(replica.store->put(replica.part_keys[i], replica.part_bytes[i]));
  BOOST_TEST(replica.segment_objects() == 31u);
  BOOST_TEST((replica.restored_rows({}, "latest.db") == std::pair<int, std::size_t>{30, 1}));
  BOOST_TEST(replica.restored_rows(t0 + 10 * step, "pitr.db").first == 10);
  auto finish = compact(*replica.store, o);
  BOOST_REQUIRE(finish.has_value());
  BOOST_TEST(finish->redundant == 30u);
  BOOST_TEST(finish->merged == 0u);
  BOOST_TEST(replica.segment_objects() == 1u);
}

BOOST_AUTO_TEST_CASE(merged_segments_stay_within_the_size_cap) {
  sync_replica replica(40);
  compaction_options o;
  o.min_run = 2;
  o.max_bytes = 4 * 4120;  // a single-row insert is one frame of 4096 + 24 bytes: four per merged segment
  auto report = compact(*replica.store, o);
  BOOST_REQUIRE(report.has_value());
  BOOST_TEST(report->merged == 10u);
  BOOST_TEST(replica.segment_objects() == 10u);
  BOOST_TEST(replica.restored_rows({}, "latest.db").first == 40);
}

BOOST_AUTO_TEST_SUITE_END()
