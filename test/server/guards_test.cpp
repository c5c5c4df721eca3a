// The guards' pure parts: the once-per-crossing alarm, the sum of read snapshots, the -wal size,
// and the new gauges in the Prometheus text.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "server/guards.hpp"
#include "server/metrics.hpp"
#include "support/temp_dir.hpp"

using namespace monolite;
using change = server::threshold_alarm::change;

BOOST_AUTO_TEST_SUITE(guards)

BOOST_AUTO_TEST_CASE(an_alarm_is_raised_once_per_crossing_and_cleared_once) {
  server::threshold_alarm alarm(10);
  BOOST_TEST((alarm.update(3) == change::none));
  BOOST_TEST((alarm.update(10) == change::none));  // at the threshold is not past it
  BOOST_TEST((alarm.update(11) == change::raised));
  BOOST_TEST((alarm.update(50) == change::none));
  BOOST_TEST((alarm.update(12) == change::none));
  BOOST_TEST((alarm.update(2) == change::cleared));
  BOOST_TEST((alarm.update(1) == change::none));
  BOOST_TEST((alarm.update(20) == change::raised));
}

BOOST_AUTO_TEST_CASE(a_zero_threshold_never_raises) {
  server::threshold_alarm off(0);
  for (double v : {0.0, 1.0, 1e12})
    BOOST_TEST((off.update(v) == change::none));
}

BOOST_AUTO_TEST_CASE(read_snapshots_count_and_keep_the_oldest) {
  const auto now = actors::snapshot_clock::now();
  actors::read_snapshots a;
  BOOST_TEST(a.oldest_seconds(now) == 0.0);
  a.add(0);  // a free slot
  a.add(actors::snapshot_stamp(now - std::chrono::seconds(2)));
  actors::read_snapshots b;
  b.add(actors::snapshot_stamp(now - std::chrono::seconds(7)));
  b.add(actors::snapshot_stamp(now - std::chrono::seconds(1)));
  a.add(b);
  a.add(actors::read_snapshots{});
  BOOST_TEST(a.held == 3u);
  BOOST_TEST(a.oldest_seconds(now) == 7.0, boost::test_tools::tolerance(1e-6));
}

BOOST_AUTO_TEST_CASE(the_wal_size_is_the_wal_files) {
  test::temp_dir dir;
  const auto db = dir.file("app.db");
  BOOST_TEST(server::wal_file_bytes(db) == 0u);
  std::ofstream(db + "-wal") << std::string(4096, 'x');
  BOOST_TEST(server::wal_file_bytes(db) == 4096u);
}

BOOST_AUTO_TEST_CASE(the_gauges_are_in_the_prometheus_text) {
  server::http_metrics http;
  server::gauge_snapshot g;
  g.wal_bytes = 123456;
  g.read_snapshots = 3;
  g.read_snapshot_oldest_seconds = 2.5;
  const auto text = server::render_prometheus(http, g);
  for (const char* line : {"# TYPE monolite_wal_bytes gauge\nmonolite_wal_bytes 123456\n",
                           "# TYPE monolite_read_snapshots gauge\nmonolite_read_snapshots 3\n",
                           "# TYPE monolite_read_snapshot_oldest_seconds gauge\n"
                           "monolite_read_snapshot_oldest_seconds 2.500000\n"})
    BOOST_TEST(text.find(line) != std::string::npos, line);
  BOOST_TEST(text.find("# HELP monolite_read_snapshot_oldest_seconds ") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
