#include <boost/test/unit_test.hpp>
#include <limits>

#include "proto/json_writer.hpp"

using namespace monolite::proto;

namespace {
std::string write(const value& v) {
  std::string out;
  json_writer(out).value(v);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(proto_json_writer)

BOOST_AUTO_TEST_CASE(strings_are_escaped) {
  BOOST_TEST(write(std::string("a\"b\\c\nd\te\x01")) == R"("a\"b\\c\nd\te\u0001")");
  BOOST_TEST(write(std::string("h\xc3\xa9")) == "\"h\xc3\xa9\"");
  BOOST_TEST(write(std::string("\xff")) == "\"\xef\xbf\xbd\"");
  BOOST_TEST(write(std::string()) == "\"\"");
  BOOST_TEST(write(std::string("x\0y", 3)) == R"("x\u0000y")");
}

BOOST_AUTO_TEST_CASE(floats_stay_floats_and_round_trip) {
  BOOST_TEST(write(3.0) == "3.0");
  BOOST_TEST(write(0.1) == "0.1");
  BOOST_TEST(write(-2.5) == "-2.5");
  BOOST_TEST(write(1e300) == "1e+300");
  BOOST_TEST(write(std::numeric_limits<double>::infinity()) == "null");
}

BOOST_AUTO_TEST_CASE(integers_blobs_and_null) {
  BOOST_TEST(write(std::numeric_limits<std::int64_t>::min()) == "-9223372036854775808");
  BOOST_TEST(write(blob{{1, 2, 3}}) == R"({"base64":"AQID"})");
  BOOST_TEST(write(std::monostate{}) == "null");
}

BOOST_AUTO_TEST_CASE(booleans_are_json_booleans) {
  BOOST_TEST(write(true) == "true");
  BOOST_TEST(write(false) == "false");
}

BOOST_AUTO_TEST_SUITE_END()
