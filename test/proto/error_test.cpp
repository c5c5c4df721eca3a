#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

#include "proto/error.hpp"

using namespace monolite::proto;

BOOST_AUTO_TEST_SUITE(proto_error)

BOOST_AUTO_TEST_CASE(sqlite_errors_have_no_sqlstate_field) {
  const api_error error{400, "SQLITE_ERROR", "no such table: t"};
  BOOST_TEST(error.sqlstate.empty());
  BOOST_TEST(boost::json::serialize(to_json(error)) ==
             R"({"error":{"code":"SQLITE_ERROR","message":"no such table: t"}})");
}

BOOST_AUTO_TEST_CASE(postgresql_errors_carry_their_sqlstate_inside_the_error) {
  api_error error{409, "SQLITE_CONSTRAINT_UNIQUE", "duplicate key", 0, "23505"};
  BOOST_TEST(boost::json::serialize(to_json(error)) ==
             R"({"error":{"code":"SQLITE_CONSTRAINT_UNIQUE","message":"duplicate key","sqlstate":"23505"}})");
}

BOOST_AUTO_TEST_SUITE_END()
