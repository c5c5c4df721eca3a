#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include "db/error.hpp"
#include "support/db_fixture.hpp"

using namespace monolite;
using monolite::test::sql;

BOOST_AUTO_TEST_SUITE(db_error)

BOOST_AUTO_TEST_CASE(names_are_sqlites_own) {
  BOOST_TEST(db::sqlite_code_name(SQLITE_CONSTRAINT_UNIQUE) == "SQLITE_CONSTRAINT_UNIQUE");
  BOOST_TEST(db::sqlite_code_name(SQLITE_IOERR_FSYNC) == "SQLITE_IOERR_FSYNC");
  BOOST_TEST(db::sqlite_code_name(SQLITE_ERROR) == "SQLITE_ERROR");
  BOOST_TEST(db::sqlite_code_name(SQLITE_BUSY | (77 << 8)) == "SQLITE_BUSY");  // unknown extension
  BOOST_TEST(db::sqlite_code_name(4242) == "SQLITE_UNKNOWN");
}

BOOST_AUTO_TEST_CASE(statuses_follow_the_code_class) {
  BOOST_TEST(db::sqlite_error(SQLITE_CONSTRAINT_FOREIGNKEY, "").status == 409u);
  BOOST_TEST(db::sqlite_error(SQLITE_ERROR, "").status == 400u);
  BOOST_TEST(db::sqlite_error(SQLITE_AUTH, "").status == 403u);
  BOOST_TEST(db::sqlite_error(SQLITE_INTERRUPT, "").status == 504u);
  BOOST_TEST(db::sqlite_error(SQLITE_IOERR_WRITE, "").status == 500u);
  auto busy = db::sqlite_error(SQLITE_BUSY, "");
  BOOST_TEST(busy.status == 503u);
  BOOST_TEST(busy.retry_after == 1u);
}

BOOST_FIXTURE_TEST_CASE(real_constraint_failures_map_to_409_with_extended_names, test::db_fixture) {
  must(sql("CREATE TABLE p(id INTEGER PRIMARY KEY)"));
  must(sql("CREATE TABLE c(id INTEGER PRIMARY KEY, u UNIQUE, n NOT NULL, k CHECK (k > 0), p REFERENCES p(id))"));
  must(sql("INSERT INTO p VALUES(1)"));
  must(sql("INSERT INTO c VALUES(1, 1, 1, 1, 1)"));
  struct sample {
    const char* text;
    const char* code;
  };
  for (auto [text, code] : {sample{"INSERT INTO c VALUES(2, 1, 1, 1, 1)", "SQLITE_CONSTRAINT_UNIQUE"},
                            sample{"INSERT INTO c VALUES(1, 2, 1, 1, 1)", "SQLITE_CONSTRAINT_PRIMARYKEY"},
                            sample{"INSERT INTO c VALUES(3, 3, NULL, 1, 1)", "SQLITE_CONSTRAINT_NOTNULL"},
                            sample{"INSERT INTO c VALUES(4, 4, 1, 0, 1)", "SQLITE_CONSTRAINT_CHECK"},
                            sample{"INSERT INTO c VALUES(5, 5, 1, 1, 9)", "SQLITE_CONSTRAINT_FOREIGNKEY"}}) {
    auto r = run(sql(text));
    BOOST_REQUIRE_MESSAGE(r.has_error(), text);
    BOOST_TEST(r.error().code == code);
    BOOST_TEST(r.error().status == 409u);
  }
  auto syntax = run(sql("SELEC 1"));
  BOOST_TEST(syntax.error().code == "SQLITE_ERROR");
  BOOST_TEST(syntax.error().status == 400u);
}

BOOST_AUTO_TEST_SUITE_END()
