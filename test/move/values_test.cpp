// COPY text escaping and the canonical encoding both sides of a verification compute.
#include "move/values.hpp"

#include <boost/test/unit_test.hpp>
#include <limits>

using namespace monolite::move;

namespace {

std::string copy_of(const pg_type& type, const value& v) {
  std::string out;
  append_copy_field(type, v, out);
  return out;
}

std::string sqlite_side(const pg_type& type, const value& v) {
  std::string out;
  append_canonical(type, v, out);
  return out;
}

std::string pg_side(const pg_type& type, std::optional<std::string_view> text) {
  std::string out;
  append_canonical_pg(type, text, out);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(move_values)

BOOST_AUTO_TEST_CASE(copy_fields_escape_and_encode) {
  BOOST_TEST(copy_of({kind::text}, value::text("a\\b\tc\nd\re")) == "a\\\\b\\tc\\nd\\re");
  BOOST_TEST(copy_of({kind::text}, value::null()) == "\\N");
  BOOST_TEST(copy_of({kind::blob}, value::blob(std::string_view("\0\xff", 2))) == "\\\\x00ff");
  BOOST_TEST(copy_of({kind::boolean}, value::of(1)) == "t");
  BOOST_TEST(copy_of({kind::integer}, value::of(INT64_MIN)) == "-9223372036854775808");
  BOOST_TEST(copy_of({kind::real}, value::of_real(1e300)) == "1e+300");
  BOOST_TEST(copy_of({kind::real}, value::of_real(-std::numeric_limits<double>::infinity())) == "-Infinity");
  BOOST_TEST(copy_of({kind::text}, value::of(42)) == "42");  // a column mapped to text
  BOOST_TEST(copy_of({kind::text}, value::blob("\x01")) == "\\\\x01");
  BOOST_TEST(copy_unescaped("a\\\\b\\tc\\nd") == "a\\b\tc\nd");
}

BOOST_AUTO_TEST_CASE(decimals_dates_and_json_have_one_canonical_form) {
  BOOST_TEST(*canonical_decimal("-0012.500") == "-12.5");
  BOOST_TEST(*canonical_decimal("1e3") == "1000");
  BOOST_TEST(*canonical_decimal("1.5e-3") == "0.0015");
  BOOST_TEST(*canonical_decimal("-0.00") == "0");
  BOOST_TEST(!canonical_decimal("1.2.3"));
  BOOST_TEST(!canonical_decimal("abc"));
  BOOST_TEST(*timestamp_micros("1970-01-02", true) == 86'400'000'000LL);
  BOOST_TEST(*timestamp_micros("1970-01-01 00:00:01.5", false) == 1'500'000);
  BOOST_TEST(*timestamp_micros("1970-01-01T00:00:01.500", false) == 1'500'000);
  BOOST_TEST(*timestamp_micros("1969-12-31 23:59:59", false) == -1'000'000);
  BOOST_TEST(!timestamp_micros("2024-01-01 12:00:00Z", false));
  BOOST_TEST(!timestamp_micros("2024-01-01 12:00:00.1234567", false));
  BOOST_TEST(*canonical_json("{\"b\": 1, \"a\": [1.0, 2.5], \"b\": 2}") == "{\"a\":[1,2.5E0],\"b\":2}");
  BOOST_TEST(*canonical_json("{\"a\":[1,2.5],\"b\":2}") == *canonical_json("{\"b\": 2, \"a\": [1, 2.5]}"));
  BOOST_TEST(!canonical_json("{"));
}

BOOST_AUTO_TEST_CASE(both_sides_encode_the_same_value_alike) {
  BOOST_TEST(sqlite_side({kind::integer}, value::of(INT64_MAX)) == pg_side({kind::integer}, "9223372036854775807"));
  BOOST_TEST(sqlite_side({kind::real}, value::of_real(1e300)) == pg_side({kind::real}, "1e+300"));
  BOOST_TEST(sqlite_side({kind::real}, value::of_real(-0.0)) == pg_side({kind::real}, "-0"));
  BOOST_TEST(sqlite_side({kind::real}, value::of_real(-0.0)) != pg_side({kind::real}, "0"));  // -0 by its bits
  BOOST_TEST(sqlite_side({kind::real}, value::of(3)) == pg_side({kind::real}, "3"));
  BOOST_TEST(sqlite_side({kind::blob}, value::blob(std::string_view("\0\xff", 2))) == pg_side({kind::blob}, "\\x00ff"));
  BOOST_TEST(sqlite_side({kind::boolean}, value::of(0)) == pg_side({kind::boolean}, "f"));
  BOOST_TEST(sqlite_side({kind::numeric, 0, 10, 2}, value::of_real(12.5)) == pg_side({kind::numeric}, "12.50"));
  BOOST_TEST(sqlite_side({kind::timestamp}, value::text("2024-01-01T10:00")) ==
             pg_side({kind::timestamp}, "2024-01-01 10:00:00"));
  BOOST_TEST(sqlite_side({kind::json}, value::text("{\"b\":1,\"a\":null}")) ==
             pg_side({kind::json}, "{\"a\": null, \"b\": 1}"));
  BOOST_TEST(sqlite_side({kind::text}, value::text("x")) == pg_side({kind::text}, "x"));
  BOOST_TEST(sqlite_side({kind::text}, value::null()) == pg_side({kind::text}, std::nullopt));
  BOOST_TEST(sqlite_side({kind::text}, value::text("")) != pg_side({kind::text}, std::nullopt));
  BOOST_TEST(sqlite_side({kind::integer}, value::of(1)) != pg_side({kind::integer}, "2"));
}

BOOST_AUTO_TEST_SUITE_END()
