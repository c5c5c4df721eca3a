// PostgreSQL's errors as the API's statuses and SQLite codes, with the SQLSTATE kept.
#include "pg/error_map.hpp"

#include <boost/test/unit_test.hpp>

using namespace monolite;

namespace {

proto::api_error map(std::string sqlstate, std::string message = "m") {
  return pg::api_error_from(pg::error{std::move(sqlstate), std::move(message), {}, {}, 0, {}});
}

void check(const std::string& sqlstate, unsigned status, const std::string& code) {
  const auto e = map(sqlstate);
  BOOST_TEST(e.status == status, sqlstate);
  BOOST_TEST(e.code == code, sqlstate);
  BOOST_TEST(e.sqlstate == sqlstate);
  BOOST_TEST(e.retry_after == (status == 503 ? 1u : 0u), sqlstate);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_error_map)

BOOST_AUTO_TEST_CASE(constraint_violations_are_409_with_sqlites_codes) {
  check("23505", 409, "SQLITE_CONSTRAINT_UNIQUE");
  check("23502", 409, "SQLITE_CONSTRAINT_NOTNULL");
  check("23503", 409, "SQLITE_CONSTRAINT_FOREIGNKEY");
  check("23514", 409, "SQLITE_CONSTRAINT_CHECK");
  check("23P01", 409, "SQLITE_CONSTRAINT");  // exclusion constraint
  check("23000", 409, "SQLITE_CONSTRAINT");
  check("40002", 409, "SQLITE_CONSTRAINT");
}

BOOST_AUTO_TEST_CASE(permissions_timeouts_and_read_only) {
  check("42501", 403, "SQLITE_AUTH");
  check("57014", 504, "SQLITE_INTERRUPT");
  check("25006", 400, "READONLY");
}

BOOST_AUTO_TEST_CASE(lost_races_are_busy_and_retryable) {
  for (const char* sqlstate : {"40001", "40P01", "55P03", "55006"})
    check(sqlstate, 503, "SQLITE_BUSY");
}

BOOST_AUTO_TEST_CASE(broken_connections_and_restarts_are_not_ready) {
  for (const char* sqlstate : {"08000", "08006", "08003", "08P01", "57P01", "57P02", "57P03"})
    check(sqlstate, 503, "NOT_READY");
}

BOOST_AUTO_TEST_CASE(resources_and_limits) {
  for (const char* sqlstate : {"53000", "53100", "53200", "53300"})
    check(sqlstate, 503, "OVERLOADED");
  for (const char* sqlstate : {"54000", "54001", "54011", "54023"})
    check(sqlstate, 413, "SQLITE_TOOBIG");
}

BOOST_AUTO_TEST_CASE(bad_data_is_a_mismatch) {
  for (const char* sqlstate : {"22P02", "22012", "22003", "22001", "22007", "22021"})
    check(sqlstate, 400, "SQLITE_MISMATCH");
}

BOOST_AUTO_TEST_CASE(other_faults_of_the_statement_are_sqlite_errors) {
  for (const char* sqlstate : {"42601", "42P01", "42703", "42883", "42P07", "0A000", "21000", "25P02", "2BP01", "3F000",
                               "55000", "P0001", "44000"})
    check(sqlstate, 400, "SQLITE_ERROR");
}

BOOST_AUTO_TEST_CASE(the_servers_faults_are_500) {
  check("XX000", 500, "SQLITE_INTERNAL");
  check("XX001", 500, "SQLITE_CORRUPT");
  check("58030", 500, "SQLITE_IOERR");
  check("F0000", 500, "SQLITE_INTERNAL");
  check("57P04", 500, "SQLITE_INTERNAL");
  check("28P01", 500, "SQLITE_INTERNAL");  // our own password is wrong: no fault of the request
  check("", 500, "SQLITE_INTERNAL");
}

BOOST_AUTO_TEST_CASE(the_message_is_postgresqls_with_detail_and_hint) {
  const auto unique =
      pg::api_error_from(pg::error{"23505", R"(duplicate key value violates unique constraint "t_pkey")",
                                   "Key (id)=(1) already exists.", "", 0, "INSERT INTO t VALUES (1)"});
  BOOST_TEST(unique.message ==
             R"(duplicate key value violates unique constraint "t_pkey" (Key (id)=(1) already exists.))");
  const auto hinted = pg::api_error_from(
      pg::error{"42883", "function f(integer) does not exist", "", "No function matches the given name.", 8, ""});
  BOOST_TEST(hinted.message == "function f(integer) does not exist hint: No function matches the given name.");
  BOOST_TEST(map("42P01", "relation \"t\" does not exist").message == "relation \"t\" does not exist");
}

BOOST_AUTO_TEST_SUITE_END()
