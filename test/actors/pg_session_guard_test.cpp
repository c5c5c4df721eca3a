#include "actors/pg_session_guard.hpp"

#include <boost/test/unit_test.hpp>

namespace monolite::actors {
namespace {

bool refused(std::string_view sql, pg_statement_origin origin = pg_statement_origin::request) {
  auto refusal = refuse_session_change(sql, origin);
  if (refusal) BOOST_TEST(refusal->status == 403u);
  if (refusal) BOOST_TEST(refusal->code == "SQLITE_AUTH");
  return refusal.has_value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_session_guard)

BOOST_AUTO_TEST_CASE(session_settings_are_refused_whatever_the_spelling) {
  for (auto sql : {"SET TimeZone = 'UTC'", "set search_path to evil", "  /* c */ SET SESSION statement_timeout = 0",
                   "-- c\nRESET ALL", "DISCARD ALL", "PREPARE p AS SELECT 1", "DEALLOCATE p", "LISTEN ch",
                   "UNLISTEN *", "LOAD 'plugin'", "SET ROLE postgres", "SET SESSION AUTHORIZATION postgres"}) {
    BOOST_TEST_CONTEXT(sql) {
      BOOST_TEST(refused(sql));
      BOOST_TEST(refused(sql, pg_statement_origin::stream));
    }
  }
}

BOOST_AUTO_TEST_CASE(settings_that_end_with_the_transaction_pass) {
  for (auto sql : {"SET LOCAL TimeZone = 'UTC'", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE",
                   "set constraints all deferred", "SELECT 1", "SETTLE", "INSERT INTO settings VALUES (1)"}) {
    BOOST_TEST_CONTEXT(sql) { BOOST_TEST(!refused(sql)); }
  }
}

BOOST_AUTO_TEST_CASE(transaction_control_is_a_stream_s_own) {
  for (auto sql : {"BEGIN", "START TRANSACTION", "COMMIT", "END", "ABORT", "ROLLBACK", "SAVEPOINT a", "RELEASE a"}) {
    BOOST_TEST_CONTEXT(sql) {
      BOOST_TEST(refused(sql));
      BOOST_TEST(!refused(sql, pg_statement_origin::stream));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace monolite::actors
