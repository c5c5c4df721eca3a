#include "actors/replica_verifier.hpp"

#include <boost/test/unit_test.hpp>

using namespace monolite;
using namespace std::chrono_literals;
using verify_result = boost::system::result<replica::verify_report, replica::restore_error>;

namespace {
replica::verify_report report(const std::string& live_sha, const std::string& replica_sha) {
  return replica::verify_report{"g", {1, 7}, {live_sha, 4096, 2}, {replica_sha, 4096, 2}, {}};
}
}  // namespace

BOOST_AUTO_TEST_SUITE(replica_verifier)

BOOST_AUTO_TEST_CASE(a_match_sets_the_success_time_and_the_duration) {
  actors::verify_stats s{"file:///r"};
  actors::record_verification(s, verify_result(report("aa", "aa")), 1.5s, 1'700'000'000'123);
  BOOST_TEST(s.last_success_ms == 1'700'000'000'123);
  BOOST_TEST(s.failures == 0u);
  BOOST_TEST(s.last_duration_seconds == 1.5);
}

BOOST_AUTO_TEST_CASE(a_mismatch_or_an_error_counts_a_failure_and_keeps_the_last_success) {
  actors::verify_stats s{"file:///r"};
  actors::record_verification(s, verify_result(report("aa", "aa")), 1s, 1000);
  actors::record_verification(s, verify_result(report("aa", "bb")), 2s, 2000);
  actors::record_verification(s, verify_result(replica::restore_error{"segment unreadable"}), 0.25s, 3000);
  BOOST_TEST(s.last_success_ms == 1000);
  BOOST_TEST(s.failures == 2u);
  BOOST_TEST(s.last_duration_seconds == 0.25);
}

BOOST_AUTO_TEST_CASE(the_scratch_lies_next_to_the_database) {
  BOOST_TEST(actors::verify_scratch_path("/data/app.db") == "/data/app.db.verify");
}

BOOST_AUTO_TEST_SUITE_END()
