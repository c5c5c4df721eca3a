// The numbers of GET /admin/status: quantiles from histogram buckets, rolling windows over the
// sample rings, and the verdict rule (server/advice.hpp).
#include <boost/test/unit_test.hpp>

#include "common/histogram.hpp"
#include "server/advice.hpp"
#include "server/metrics.hpp"
#include "server/status_windows.hpp"

namespace monolite::server {
namespace {

status_sample sample_at(double at, std::uint64_t commits, std::uint64_t connections = 0) {
  status_sample s;
  s.at_seconds = at;
  s.commits = commits;
  s.write_statements = 2 * commits;
  s.busy_microseconds = commits * 1000;  // 1 ms per commit
  s.connections = connections;
  return s;
}

}  // namespace

std::ostream& operator<<(std::ostream& out, verdict_state state) { return out << state_name(state); }

BOOST_AUTO_TEST_SUITE(status)

BOOST_AUTO_TEST_CASE(quantiles_interpolate_inside_the_bucket_they_fall_in) {
  histogram h(latency_bounds);
  for (int i = 0; i < 90; ++i)
    h.observe(800);  // (500, 1000] µs
  for (int i = 0; i < 10; ++i)
    h.observe(40'000);  // (25 000, 50 000] µs
  const auto counts = h.counts();
  BOOST_TEST(counts.count() == 100u);
  BOOST_TEST(counts.sum == 90u * 800 + 10u * 40'000);
  // The 50th of 90 in (0.5 ms, 1 ms]: 0.5 + 0.5 * 50/90 ms.
  BOOST_TEST(quantile(counts, latency_bounds, 0.5) == (500 + 500 * 50.0 / 90) * 1e-6,
             boost::test_tools::tolerance(1e-9));
  // The 99th is the 9th of 10 in (25 ms, 50 ms].
  BOOST_TEST(quantile(counts, latency_bounds, 0.99) == (25'000 + 25'000 * 9.0 / 10) * 1e-6,
             boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(an_empty_histogram_has_quantile_zero_and_the_overflow_bucket_gives_the_last_bound) {
  histogram h(latency_bounds);
  BOOST_TEST(quantile(h.counts(), latency_bounds, 0.99) == 0.0);
  h.observe(60'000'000);  // a minute: past 10 s
  BOOST_TEST(h.counts().buckets.back() == 1u);
  BOOST_TEST(quantile(h.counts(), latency_bounds, 0.99) == 10.0);
}

BOOST_AUTO_TEST_CASE(counts_subtract_into_what_happened_between_two_samples) {
  histogram h(group_size_bounds);
  h.observe(1);
  const auto before = h.counts();
  h.observe(5);
  h.observe(5);
  const auto between = h.counts() - before;
  BOOST_TEST(between.count() == 2u);
  BOOST_TEST(between.sum == 10u);
  BOOST_TEST(quantile(between, group_size_bounds, 0.5) == 5.0);  // 4 + 2 * (1/2): inside (4, 6]
}

BOOST_AUTO_TEST_CASE(prometheus_buckets_are_cumulative_and_end_with_inf_sum_and_count) {
  histogram h(latency_bounds);
  h.observe(100);
  h.observe(200);
  h.observe(20'000'000);
  std::string out;
  append_histogram(out, "x_seconds", "route=\"/a\",", h.counts(), latency_bounds);
  BOOST_TEST(out.find("x_seconds_bucket{route=\"/a\",le=\"0.0001\"} 1\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{route=\"/a\",le=\"0.00025\"} 2\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{route=\"/a\",le=\"10\"} 2\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_sum{route=\"/a\"} 20.0003\n") != std::string::npos, out);
  BOOST_TEST(out.find("x_seconds_count{route=\"/a\"} 3\n") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(a_window_is_the_rate_between_its_newest_sample_and_the_one_it_starts_at) {
  sample_ring ring(100);
  for (int t = 0; t <= 10; ++t)
    ring.push(sample_at(t, t < 5 ? 0 : 10 * (t - 4), t == 8 ? 9 : 1));  // 10 commits/s from t = 5
  const auto last3 = ring.window_until(ring.newest(), 3);
  BOOST_TEST(last3.seconds == 3.0);
  BOOST_TEST(last3.commits_per_second == 10.0);
  BOOST_TEST(last3.write_statements_per_second == 20.0);
  BOOST_TEST(last3.writer_busy_fraction == 0.01, boost::test_tools::tolerance(1e-12));  // 10 ms a second
  BOOST_TEST(last3.peak_connections == 9u);  // at t = 8, inside (7, 10]
  const auto all = ring.window_until(ring.newest(), 60);  // longer than held: as far back as there is
  BOOST_TEST(all.seconds == 10.0);
  BOOST_TEST(all.commits_per_second == 6.0);
}

BOOST_AUTO_TEST_CASE(the_start_sample_s_gauges_are_not_in_the_window_s_peaks) {
  sample_ring ring(100);
  ring.push(sample_at(0, 0, 50));
  ring.push(sample_at(1, 0, 2));
  ring.push(sample_at(2, 0, 3));
  BOOST_TEST(ring.window_until(ring.newest(), 2).peak_connections == 3u);
  BOOST_TEST(ring.window_until(ring.newest(), 2.5).peak_connections == 50u);
}

BOOST_AUTO_TEST_CASE(a_full_ring_keeps_only_its_newest_samples) {
  sample_ring ring(4);
  for (int t = 0; t < 10; ++t)
    ring.push(sample_at(t, static_cast<std::uint64_t>(t)));
  BOOST_TEST(ring.size() == 4u);
  BOOST_TEST(ring.newest().at_seconds == 9.0);
  const auto all = ring.window_until(ring.newest(), 100);
  BOOST_TEST(all.seconds == 3.0);  // samples 6..9
  BOOST_TEST(all.commits_per_second == 1.0);
}

BOOST_AUTO_TEST_CASE(long_windows_come_from_the_minute_ring_and_end_at_the_newest_second) {
  status_book book;
  for (int t = 0; t <= 2 * 3600; ++t)
    book.record(sample_at(t, static_cast<std::uint64_t>(t) * 3, t == 100 ? 40 : 1));  // 3 commits/s
  const auto minute = book.window(60);
  BOOST_TEST(minute.seconds == 60.0);
  BOOST_TEST(minute.commits_per_second == 3.0);
  const auto hour = book.window(3600);
  BOOST_TEST(hour.seconds == 3600.0);
  BOOST_TEST(hour.commits_per_second == 3.0);
  const auto day = book.window(24 * 3600);  // only two hours held
  BOOST_TEST(day.seconds == 7200.0);
  BOOST_TEST(day.peak_connections == 40u);  // the minute sample keeps the peak of its minute
  BOOST_TEST(book.window(900).peak_connections == 1u);
}

BOOST_AUTO_TEST_CASE(a_book_with_no_sample_says_zero) {
  status_book book;
  BOOST_TEST(book.window(60).seconds == 0.0);
  BOOST_TEST(book.window(3600).commits_per_second == 0.0);
}

BOOST_AUTO_TEST_CASE(verdicts_are_ok_below_70_percent_watch_from_it_and_plan_at_the_threshold) {
  BOOST_TEST(judge("x", 0, 50).state == verdict_state::ok);
  BOOST_TEST(judge("x", 34.9, 50).state == verdict_state::ok);
  BOOST_TEST(judge("x", 35, 50).state == verdict_state::watch);
  BOOST_TEST(judge("x", 49.9, 50).state == verdict_state::watch);
  BOOST_TEST(judge("x", 50, 50).state == verdict_state::plan_the_move);
  BOOST_TEST(judge("x", 20, 50).headroom == 0.6, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(judge("x", 75, 50).headroom == -0.5, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(state_name(verdict_state::plan_the_move) == "plan the move");
}

BOOST_AUTO_TEST_CASE(one_verdict_per_threshold_from_the_sustained_window) {
  window_stats w;
  w.commits_per_second = 60;
  w.write_statements_per_second = 100;
  w.commit_p99_seconds = 0.04;
  w.database_bytes = std::uint64_t{11} << 30;
  w.peak_client_addresses = 1;
  const auto judged = verdicts(w, advice_thresholds{});
  BOOST_REQUIRE(judged.size() == 6u);
  auto state_of = [&](std::string_view name) {
    for (const auto& v : judged)
      if (v.name == name) return v.state;
    BOOST_FAIL("no verdict " << name);
    return verdict_state::ok;
  };
  BOOST_TEST((state_of("commits_per_second") == verdict_state::plan_the_move));
  BOOST_TEST((state_of("write_statements_per_second") == verdict_state::ok));
  BOOST_TEST((state_of("commit_p99_seconds") == verdict_state::watch));  // 40 ms of 50
  BOOST_TEST((state_of("read_p99_seconds") == verdict_state::ok));
  BOOST_TEST((state_of("database_bytes") == verdict_state::plan_the_move));
  BOOST_TEST((state_of("client_addresses") == verdict_state::ok));
}

BOOST_AUTO_TEST_CASE(the_status_json_has_four_windows_the_verdicts_and_the_worst_state) {
  status_book book;
  book.record(sample_at(0, 0));
  book.record(sample_at(1, 100));
  advice_thresholds thresholds;
  thresholds.window = std::chrono::seconds(1);
  const auto json = status_json(book, thresholds);
  for (const char* name : {"1m", "15m", "1h", "24h"})
    BOOST_TEST(json.at("windows").as_object().contains(name), name);
  BOOST_TEST(json.at("verdict_window_seconds").as_double() == 1.0);
  BOOST_TEST(json.at("verdicts").as_array().size() == 6u);
  BOOST_TEST(json.at("state").as_string() == "plan the move");  // 100 commits/s over 1 s
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace monolite::server
