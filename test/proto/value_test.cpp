#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>
#include <limits>

#include "proto/base64.hpp"
#include "proto/value.hpp"

using namespace monolite::proto;
namespace json = boost::json;

namespace {
value decode(std::string_view text) { return value_from_json(json::parse(text)).value(); }
std::string encode(const value& v) { return json::serialize(value_to_json(v)); }
}  // namespace

BOOST_AUTO_TEST_SUITE(proto_value)

BOOST_AUTO_TEST_CASE(int64_edges_round_trip_exactly) {
  for (std::int64_t i : {std::numeric_limits<std::int64_t>::max(), std::numeric_limits<std::int64_t>::min(),
                         std::int64_t{0}, std::int64_t{-1}, std::int64_t{9007199254740993}}) {
    const auto text = std::to_string(i);
    BOOST_TEST(std::get<std::int64_t>(decode(text)) == i);
    BOOST_TEST(encode(i) == text);
  }
}

BOOST_AUTO_TEST_CASE(integer_beyond_int64_is_refused) {
  auto v = value_from_json(json::parse("9223372036854775808"));
  BOOST_REQUIRE(v.has_error());
  BOOST_TEST(v.error().code == "BAD_PARAMS");
  BOOST_TEST(v.error().status == 400u);
}

BOOST_AUTO_TEST_CASE(null_float_text_and_bool) {
  BOOST_TEST(std::holds_alternative<std::monostate>(decode("null")));
  BOOST_TEST(std::get<double>(decode("1.25")) == 1.25);
  BOOST_TEST(std::get<std::string>(decode("\"h\\u00e9\"")) == "h\xc3\xa9");
  BOOST_TEST(encode(std::monostate{}) == "null");
  BOOST_TEST(std::get<double>(value_from_json(value_to_json(0.1)).value()) == 0.1);
}

BOOST_AUTO_TEST_CASE(booleans_stay_booleans) {
  BOOST_TEST(std::get<bool>(decode("true")) == true);
  BOOST_TEST(std::get<bool>(decode("false")) == false);
  BOOST_TEST(encode(true) == "true");
  BOOST_TEST(encode(false) == "false");
  BOOST_TEST((decode("1") != value{true}));  // an integer is not a boolean
}

BOOST_AUTO_TEST_CASE(blobs_round_trip_through_base64) {
  const std::vector<unsigned char> bytes = {0, 1, 2, 0xff, 0};
  const value v = blob{bytes};
  BOOST_TEST(encode(v) == R"({"base64":"AAEC/wA="})");
  BOOST_TEST((std::get<blob>(decode(R"({"base64":"AAEC/wA="})")).bytes == bytes));
  BOOST_TEST(std::get<blob>(decode(R"({"base64":""})")).bytes.empty());
}

BOOST_AUTO_TEST_CASE(base64_lengths_and_padding) {
  for (std::size_t n = 0; n < 8; ++n) {
    std::vector<unsigned char> bytes(n);
    for (std::size_t i = 0; i < n; ++i)
      bytes[i] = static_cast<unsigned char>(i * 37 + 1);
    auto back = base64_decode(base64_encode(bytes));
    BOOST_REQUIRE(back.has_value());
    BOOST_TEST((*back == bytes));
  }
  BOOST_TEST(!base64_decode("abc").has_value());
  BOOST_TEST(!base64_decode("ab=c").has_value());
  BOOST_TEST(!base64_decode("a===").has_value());
  BOOST_TEST(!base64_decode("ab!d").has_value());
}

BOOST_AUTO_TEST_CASE(arrays_and_other_objects_are_refused) {
  for (const char* text :
       {"[1]", R"({"x":1})", R"({"base64":1})", R"({"base64":"@@@@"})", R"({"base64":"AA==","extra":1})"}) {
    auto v = value_from_json(json::parse(text));
    BOOST_REQUIRE_MESSAGE(v.has_error(), text);
    BOOST_TEST(v.error().code == "BAD_PARAMS");
  }
}

BOOST_AUTO_TEST_SUITE_END()

#include "proto/text.hpp"

BOOST_AUTO_TEST_SUITE(proto_text)

BOOST_AUTO_TEST_CASE(invalid_utf8_is_replaced_not_sent) {
  BOOST_TEST(monolite::proto::is_valid_utf8("h\xc3\xa9 \xf0\x9f\x98\x80"));
  BOOST_TEST(
      !monolite::proto::is_valid_utf8("\xff"
                                      "A"));
  BOOST_TEST(monolite::proto::valid_utf8("\xff"
                                         "A") ==
             "\xef\xbf\xbd"
             "A");
  BOOST_TEST(monolite::proto::valid_utf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");      // overlong
  BOOST_TEST(monolite::proto::valid_utf8("\xed\xa0\x80").size() == 9u);                   // surrogate
  BOOST_TEST(monolite::proto::valid_utf8("ok\xe2\x82") == "ok\xef\xbf\xbd\xef\xbf\xbd");  // truncated
  BOOST_TEST(encode(std::string("\xff")) == "\"\xef\xbf\xbd\"");
}

BOOST_AUTO_TEST_CASE(infinities_become_null) {
  BOOST_TEST(encode(std::numeric_limits<double>::infinity()) == "null");
  BOOST_TEST(encode(-std::numeric_limits<double>::infinity()) == "null");
}

BOOST_AUTO_TEST_CASE(out_of_range_integer_literals_are_found_outside_strings) {
  using monolite::proto::find_out_of_range_integer;
  BOOST_TEST(!find_out_of_range_integer(R"({"params":[9223372036854775807,-9223372036854775808,1.5e300]})"));
  BOOST_TEST(*find_out_of_range_integer(R"({"params":[1,18446744073709551616]})") == "18446744073709551616");
  BOOST_TEST(*find_out_of_range_integer(R"({"p":{"x":-9223372036854775809}})") == "-9223372036854775809");
  BOOST_TEST(!find_out_of_range_integer(R"({"sql":"SELECT 99999999999999999999","p":"\"9999999999999999999999"})"));
  BOOST_TEST(!find_out_of_range_integer(R"({"a":-})"));
  BOOST_TEST(!find_out_of_range_integer("123456789012345678901234.5"));
}

BOOST_AUTO_TEST_SUITE_END()
