// The one vocabulary of option values: durations, booleans, bounded numbers, lists.
#include "cli/values.hpp"

#include <boost/test/unit_test.hpp>

using namespace monolite;
using std::chrono::milliseconds;

namespace {

std::int64_t ms_of(const std::string& text, milliseconds bare_unit = std::chrono::seconds(1)) {
  return cli::parse_duration(text, "wait", bare_unit).value().count();
}

// The error for `text`, which must be one.
std::string duration_error(const std::string& text) {
  auto parsed = cli::parse_duration(text, "statement-timeout");
  BOOST_REQUIRE_MESSAGE(parsed.has_error(), "'" + text + "' was accepted");
  return parsed.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_values)

BOOST_AUTO_TEST_CASE(every_duration_unit) {
  BOOST_TEST(ms_of("250ms") == 250);
  BOOST_TEST(ms_of("5s") == 5000);
  BOOST_TEST(ms_of("2m") == 120000);
  BOOST_TEST(ms_of("24h") == 86400000);
  BOOST_TEST(ms_of("7d") == 604800000);
}

BOOST_AUTO_TEST_CASE(duration_fractions) {
  BOOST_TEST(ms_of("1.5s") == 1500);
  BOOST_TEST(ms_of("0.5m") == 30000);
  BOOST_TEST(ms_of("0.25h") == 900000);
  BOOST_TEST(ms_of("0.001s") == 1);
  BOOST_TEST(ms_of("1.9ms") == 1);  // whole milliseconds, rounded down
  BOOST_TEST(ms_of("0.25") == 250);
}

BOOST_AUTO_TEST_CASE(a_bare_number_is_the_flags_own_unit) {
  BOOST_TEST(ms_of("5") == 5000);
  BOOST_TEST(ms_of("60") == 60000);
  // --busy-timeout: milliseconds, as SQLite's pragma.
  BOOST_TEST(ms_of("5000", milliseconds(1)) == 5000);
  BOOST_TEST(ms_of("2s", milliseconds(1)) == 2000);
}

BOOST_AUTO_TEST_CASE(duration_bounds) {
  BOOST_TEST(ms_of("1ms") == 1);
  BOOST_TEST(ms_of("3650d") == 3650ll * 86400000);
  for (const std::string text : {"0", "0s", "0.5ms", "-1", "-5s", "3651d", "1e300", "inf", "nan"})
    duration_error(text);
}

BOOST_AUTO_TEST_CASE(duration_garbage_and_empty) {
  for (const std::string text :
       {"", "soon", "s", "ms", "5 s", " 5s", "5s ", "+5s", "5S", "5sec", "5y", "1h30m", "0x10", "5,5s", "1..5s"})
    duration_error(text);
}

BOOST_AUTO_TEST_CASE(duration_error_names_the_flag_and_the_syntax) {
  const auto message = duration_error("soon");
  BOOST_TEST(message.find("--statement-timeout") != std::string::npos, message);
  BOOST_TEST(message.find("'soon'") != std::string::npos, message);
  BOOST_TEST(message.find("250ms") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(booleans_are_exactly_true_or_false) {
  BOOST_TEST(cli::parse_bool("true", "access-log").value());
  BOOST_TEST(!cli::parse_bool("false", "access-log").value());
  for (const std::string text : {"", "True", "FALSE", "yes", "no", "on", "off", "1", "0", " true", "true "}) {
    auto parsed = cli::parse_bool(text, "access-log");
    BOOST_REQUIRE_MESSAGE(parsed.has_error(), "'" + text + "' was accepted");
    BOOST_TEST(parsed.error().message.find("--access-log") != std::string::npos, parsed.error().message);
    BOOST_TEST(parsed.error().message.find("true or false") != std::string::npos, parsed.error().message);
  }
}

BOOST_AUTO_TEST_CASE(numbers_within_bounds) {
  BOOST_TEST(cli::parse_number<unsigned>("1", "readers", 1, 256).value() == 1u);
  BOOST_TEST(cli::parse_number<unsigned>("256", "readers", 1, 256).value() == 256u);
  BOOST_TEST(cli::parse_number<std::int64_t>("-64000", "cache-size", -100000, 100000).value() == -64000);
  for (const std::string text : {"", "0", "257", "-1", "1.5", "abc", "1 ", " 1", "+1", "99999999999999999999"}) {
    auto parsed = cli::parse_number<unsigned>(text, "readers", 1, 256);
    BOOST_REQUIRE_MESSAGE(parsed.has_error(), "'" + text + "' was accepted");
    BOOST_TEST(parsed.error().message.find("--readers") != std::string::npos, parsed.error().message);
    BOOST_TEST(parsed.error().message.find("from 1 to 256") != std::string::npos, parsed.error().message);
  }
}

BOOST_AUTO_TEST_CASE(lists_split_on_blanks) {
  BOOST_TEST(cli::split_list("").empty());
  BOOST_TEST(cli::split_list(" \n\t ").empty());
  const auto words = cli::split_list("file:///a\ns3://b/c  file:///d\t");
  BOOST_REQUIRE_EQUAL(words.size(), 3u);
  BOOST_TEST(words[0] == "file:///a");
  BOOST_TEST(words[1] == "s3://b/c");
  BOOST_TEST(words[2] == "file:///d");
}

BOOST_AUTO_TEST_SUITE_END()
