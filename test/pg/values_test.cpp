// API values as libpq parameters, and PostgreSQL's text results as API values.
#include "pg/values.hpp"

#include <boost/test/unit_test.hpp>
#include <charconv>
#include <cmath>
#include <limits>
#include <random>

using namespace monolite;
using pg::value_from_text;
namespace oid = pg::type_oid;

namespace {

pg::param_list params_of(const std::vector<proto::value>& values) {
  std::vector<const proto::value*> pointers;
  for (const auto& v : values)
    pointers.push_back(&v);
  auto list = pg::param_list::from(pointers);
  BOOST_REQUIRE_MESSAGE(list.has_value(), list.error().message);
  return std::move(*list);
}

proto::value read(pg::oid type, std::string_view text) {
  auto v = value_from_text(type, text);
  BOOST_REQUIRE_MESSAGE(v.has_value(), std::string(text) + ": " + v.error().message);
  return *v;
}

std::string text_of(const pg::param_list& list, int i) { return list.values()[i]; }

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_values)

BOOST_AUTO_TEST_CASE(parameters_carry_their_types) {
  const std::vector<proto::value> values = {std::int64_t{-9223372036854775807 - 1},
                                            0.1,
                                            true,
                                            false,
                                            std::string("2024-01-02 03:04:05+00"),
                                            std::monostate{}};
  auto list = params_of(values);
  BOOST_REQUIRE(list.size() == 6);
  BOOST_TEST(list.types()[0] == oid::int8);
  BOOST_TEST(text_of(list, 0) == "-9223372036854775808");
  BOOST_TEST(list.types()[1] == oid::float8);
  BOOST_TEST(text_of(list, 1) == "0.1");
  BOOST_TEST(list.types()[2] == oid::boolean);
  BOOST_TEST(text_of(list, 2) == "t");
  BOOST_TEST(text_of(list, 3) == "f");
  BOOST_TEST(list.types()[4] == oid::unknown);                               // PostgreSQL reads it as the column's type
  BOOST_TEST(list.values()[4] == std::get<std::string>(values[4]).c_str());  // not copied
  BOOST_TEST(list.types()[5] == oid::unknown);
  BOOST_TEST(list.values()[5] == nullptr);
  for (int i = 0; i < list.size(); ++i)
    BOOST_TEST(list.formats()[i] == 0);
}

BOOST_AUTO_TEST_CASE(blobs_go_as_binary_bytea) {
  const std::vector<proto::value> values = {proto::blob{{0, 1, 0xff, 0}}, proto::blob{}};
  auto list = params_of(values);
  BOOST_TEST(list.types()[0] == oid::bytea);
  BOOST_TEST(list.formats()[0] == 1);
  BOOST_TEST(list.lengths()[0] == 4);
  BOOST_TEST(std::string(list.values()[0], 4) == std::string("\0\1\xff\0", 4));
  BOOST_TEST(list.values()[1] != nullptr);  // an empty blob is not NULL
  BOOST_TEST(list.lengths()[1] == 0);
}

BOOST_AUTO_TEST_CASE(float_parameters_read_back_exactly) {
  std::mt19937_64 random(7);
  std::vector<double> doubles = {0.1, -0.0, 1e300, 5e-324, std::numeric_limits<double>::max(), 1.0 / 3};
  for (int n = 0; n < 200; ++n) {
    const auto bits = random();
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (std::isfinite(d)) doubles.push_back(d);
  }
  // Built at once from the doubles: growing a vector of variants one double at a time makes g++ 12
  // -O2 warn (-Wmaybe-uninitialized) about the other alternatives.
  const std::vector<proto::value> values(doubles.begin(), doubles.end());
  auto list = params_of(values);
  for (int i = 0; i < list.size(); ++i) {
    const std::string text = list.values()[i];
    const double sent = std::get<double>(values[static_cast<std::size_t>(i)]);
    BOOST_TEST(std::get<double>(read(oid::float8, text)) == sent, text);
    BOOST_TEST(std::signbit(std::get<double>(read(oid::float8, text))) == std::signbit(sent));
  }
}

BOOST_AUTO_TEST_CASE(non_finite_floats_use_postgresqls_words) {
  const std::vector<proto::value> values = {std::numeric_limits<double>::infinity(),
                                            -std::numeric_limits<double>::infinity(),
                                            std::numeric_limits<double>::quiet_NaN()};
  auto list = params_of(values);
  BOOST_TEST(text_of(list, 0) == "Infinity");
  BOOST_TEST(text_of(list, 1) == "-Infinity");
  BOOST_TEST(text_of(list, 2) == "NaN");
}

BOOST_AUTO_TEST_CASE(text_with_a_nul_byte_is_refused) {
  const proto::value v = std::string("a\0b", 3);
  auto list = pg::param_list::from({&v});
  BOOST_REQUIRE(list.has_error());
  BOOST_TEST(list.error().code == "BAD_PARAMS");
  BOOST_TEST(list.error().status == 400u);
}

BOOST_AUTO_TEST_CASE(a_moved_list_still_points_at_its_texts) {
  const std::vector<proto::value> values = {std::int64_t{42}, 2.5};
  auto list = params_of(values);
  auto moved = std::move(list);
  BOOST_TEST(text_of(moved, 0) == "42");
  BOOST_TEST(text_of(moved, 1) == "2.5");
}

BOOST_AUTO_TEST_CASE(integers_read_exactly) {
  BOOST_TEST(std::get<std::int64_t>(read(oid::int8, "-9223372036854775808")) ==
             std::numeric_limits<std::int64_t>::min());
  BOOST_TEST(std::get<std::int64_t>(read(oid::int8, "9223372036854775807")) ==
             std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(std::get<std::int64_t>(read(oid::int4, "-2147483648")) == -2147483648LL);
  BOOST_TEST(std::get<std::int64_t>(read(oid::int2, "7")) == 7);
  BOOST_TEST(std::get<std::int64_t>(read(oid::oid_, "4294967295")) == 4294967295LL);
  for (std::string_view bad : {"", "1.5", "x", "9223372036854775808", "1 "})
    BOOST_TEST(value_from_text(oid::int8, bad).has_error(), bad);
}

BOOST_AUTO_TEST_CASE(floats_read_as_doubles) {
  BOOST_TEST(std::get<double>(read(oid::float8, "0.1")) == 0.1);
  BOOST_TEST(std::get<double>(read(oid::float4, "1.1")) == 1.1);  // float4 prints its shortest form
  BOOST_TEST(std::get<double>(read(oid::float8, "1e+308")) == 1e308);
  BOOST_TEST(std::get<double>(read(oid::float8, "Infinity")) == std::numeric_limits<double>::infinity());
  BOOST_TEST(std::get<double>(read(oid::float8, "-Infinity")) == -std::numeric_limits<double>::infinity());
  BOOST_TEST(std::holds_alternative<std::monostate>(read(oid::float8, "NaN")));  // as SQLite stores NaN
  BOOST_TEST(value_from_text(oid::float8, "one").has_error());
}

BOOST_AUTO_TEST_CASE(numeric_stays_exact_text) {
  BOOST_TEST(std::get<std::string>(read(oid::numeric, "12345678901234567890.123456789")) ==
             "12345678901234567890.123456789");
  BOOST_TEST(std::get<std::string>(read(oid::numeric, "NaN")) == "NaN");
}

BOOST_AUTO_TEST_CASE(booleans_read_as_booleans) {
  BOOST_TEST(std::get<bool>(read(oid::boolean, "t")) == true);
  BOOST_TEST(std::get<bool>(read(oid::boolean, "f")) == false);
  BOOST_TEST(value_from_text(oid::boolean, "true").has_error());
}

BOOST_AUTO_TEST_CASE(bytea_hex_decodes) {
  BOOST_TEST(std::get<proto::blob>(read(oid::bytea, "\\x")).bytes.empty());
  BOOST_TEST((std::get<proto::blob>(read(oid::bytea, "\\x00ff10Ab")).bytes ==
              std::vector<unsigned char>{0x00, 0xff, 0x10, 0xab}));
  for (std::string_view bad : {"", "\\", "\\x0", "\\x0g", "\\xzz", "x00", "\\000", "\\x123"}) {
    auto v = value_from_text(oid::bytea, bad);
    BOOST_REQUIRE_MESSAGE(v.has_error(), bad);
    BOOST_TEST(v.error().status == 500u);
  }
}

BOOST_AUTO_TEST_CASE(other_types_read_as_postgresql_prints_them) {
  const std::vector<std::pair<pg::oid, std::string_view>> samples = {
      {oid::text, "h\xc3\xa9llo"},
      {1043, "varchar"},
      {1042, "char  "},
      {19, "pg_class"},
      {1184, "2024-01-02 03:04:05+00"},  // DateStyle=ISO, TimeZone=UTC
      {1082, "2024-01-02"},
      {2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
      {3802, R"({"a": [1, 2]})"},
      {1186, "1 day 02:00:00"},
      {1007, "{1,2,3}"},
      {99999, "a user-defined type"},
  };
  for (const auto& [type, text] : samples)
    BOOST_TEST(std::get<std::string>(read(type, text)) == text);
}

BOOST_AUTO_TEST_CASE(type_names_for_declared_types) {
  BOOST_TEST(pg::type_name(oid::int8) == "int8");
  BOOST_TEST(pg::type_name(oid::text) == "text");
  BOOST_TEST(pg::type_name(oid::boolean) == "bool");
  BOOST_TEST(pg::type_name(oid::bytea) == "bytea");
  BOOST_TEST(pg::type_name(oid::float8) == "float8");
  BOOST_TEST(pg::type_name(oid::numeric) == "numeric");
  BOOST_TEST(pg::type_name(1184) == "timestamptz");
  BOOST_TEST(pg::type_name(3802) == "jsonb");
  BOOST_TEST(pg::type_name(99999) == "");
}

BOOST_AUTO_TEST_SUITE_END()
