#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>

#include "actors/write_transaction.hpp"
#include "support/db_fixture.hpp"

using namespace monolite;
using monolite::test::sql;

namespace {
void expect_refused(test::db_fixture& f, const std::string& text, const std::string& mentions) {
  auto r = f.run(sql(text));
  BOOST_REQUIRE_MESSAGE(r.has_error(), text);
  BOOST_TEST(r.error().status == 403u, text);
  BOOST_TEST(r.error().code == "SQLITE_AUTH", text);
  BOOST_TEST(r.error().message.find(mentions) != std::string::npos, r.error().message);
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(db_sandbox, test::db_fixture)

BOOST_AUTO_TEST_CASE(attach_extensions_and_vacuum_are_refused_and_write_nothing) {
  const auto attached = dir.file("other.db");
  const auto copy = dir.file("copy.db");
  expect_refused(*this, "ATTACH DATABASE '" + attached + "' AS other", "ATTACH");
  expect_refused(*this, "DETACH DATABASE main", "DETACH");
  expect_refused(*this, "SELECT load_extension('/tmp/x.so')", "load_extension");
  expect_refused(*this, "VACUUM", "VACUUM");
  expect_refused(*this, " ;; VACUUM", "VACUUM");
  expect_refused(*this, "SELECT fts3_tokenizer('simple')", "fts3_tokenizer");
  expect_refused(*this, "  /* c */ -- c\n vacuum INTO '" + copy + "'", "VACUUM");
  BOOST_TEST(!std::filesystem::exists(attached));
  BOOST_TEST(!std::filesystem::exists(copy));
  BOOST_TEST(must(sql("SELECT 'vacuum' AS vacuumed")).rows.size() == 1u);  // only the keyword counts
}

BOOST_AUTO_TEST_CASE(pragmas_that_change_durability_or_connection_state_are_refused) {
  for (const char* text : {"PRAGMA writable_schema = 1", "PRAGMA journal_mode = DELETE", "PRAGMA synchronous = OFF",
                           "PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA wal_autocheckpoint = 10",
                           "PRAGMA foreign_keys = OFF", "PRAGMA query_only = 0", "PRAGMA main.journal_mode = MEMORY"})
    expect_refused(*this, text, "PRAGMA");
  must(sql("CREATE TABLE t(x)"));
  BOOST_TEST(must(sql("PRAGMA table_info(t)")).rows.size() == 1u);
  BOOST_TEST(std::get<std::string>(must(sql("PRAGMA journal_mode")).rows.at(0).at(0)) == "wal");
  must(sql("PRAGMA user_version = 7"));
  BOOST_TEST(std::get<std::int64_t>(must(sql("PRAGMA user_version")).rows.at(0).at(0)) == 7);
}

BOOST_AUTO_TEST_CASE(a_runaway_statement_times_out_and_the_connection_still_works) {
  options.statement_timeout = std::chrono::milliseconds(100);
  conn = open_writer();
  const auto start = std::chrono::steady_clock::now();
  auto r = run(sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"));
  const auto took = std::chrono::steady_clock::now() - start;
  BOOST_REQUIRE(r.has_error());
  BOOST_TEST(r.error().status == 504u);
  BOOST_TEST(r.error().code == "SQLITE_INTERRUPT");
  BOOST_TEST((took < std::chrono::seconds(5)));
  BOOST_TEST(must(sql("SELECT 1")).rows.size() == 1u);
}

BOOST_AUTO_TEST_CASE(results_sql_length_and_parameters_are_capped) {
  options.max_result_rows = 10;
  options.max_value_bytes = 100000;
  options.max_sql_length = 200;
  options.max_params = 3;
  conn = open_writer();
  auto many = run(sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 11) SELECT x FROM c"));
  BOOST_REQUIRE(many.has_error());
  BOOST_TEST(many.error().code == "RESULT_TOO_LARGE");
  BOOST_TEST(must(sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 10) SELECT x FROM c"))
                 .rows.size() == 10u);
  auto long_sql = run(sql("SELECT '" + std::string(300, 'x') + "'"));
  BOOST_REQUIRE(long_sql.has_error());
  BOOST_TEST(long_sql.error().code == "SQLITE_TOOBIG");
  BOOST_TEST(long_sql.error().status == 413u);
  auto huge = run(sql("SELECT length(randomblob(200000))"));  // never built, though only its length is asked
  BOOST_REQUIRE(huge.has_error());
  BOOST_TEST(huge.error().code == "SQLITE_TOOBIG");
  auto params = run(sql("SELECT ?, ?, ?, ?", {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}, std::int64_t{4}}));
  BOOST_REQUIRE(params.has_error());
  BOOST_TEST(params.error().status == 400u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_CASE(a_timed_out_write_fails_alone_in_its_group, test::db_fixture) {
  options.statement_timeout = std::chrono::milliseconds(200);
  conn = open_writer();
  must(sql("CREATE TABLE t(v)"));
  auto request = [](std::string text) { return proto::write_request{{sql(std::move(text))}, false}; };
  const auto first = request("INSERT INTO t VALUES(1)");
  const auto runaway =
      request("INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c");
  const auto last = request("INSERT INTO t VALUES(2)");
  // An interrupted INSERT makes SQLite roll back the whole transaction; the others must not pay for it.
  auto outcomes = actors::run_group_commit(conn, {&first, &runaway, &last});
  BOOST_REQUIRE(outcomes.size() == 3u);
  BOOST_TEST(outcomes[0].results.has_value());
  BOOST_REQUIRE(outcomes[1].results.has_error());
  BOOST_TEST(outcomes[1].results.error().status == 504u);
  BOOST_TEST(outcomes[2].results.has_value());
  BOOST_TEST(std::get<std::int64_t>(must(sql("SELECT count(*) FROM t")).rows.at(0).at(0)) == 2);
  BOOST_TEST(std::get<std::int64_t>(must(sql("SELECT sum(v) FROM t")).rows.at(0).at(0)) == 3);
}
