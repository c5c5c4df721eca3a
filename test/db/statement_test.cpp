#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <limits>

#include "support/db_fixture.hpp"

using namespace monolite;
using monolite::test::sql;

BOOST_FIXTURE_TEST_SUITE(db_statement, test::db_fixture)

BOOST_AUTO_TEST_CASE(opens_in_wal_with_the_configured_pragmas) {
  auto mode = must(sql("PRAGMA journal_mode"));
  BOOST_TEST(std::get<std::string>(mode.rows.at(0).at(0)) == "wal");
  BOOST_TEST(std::get<std::int64_t>(must(sql("PRAGMA foreign_keys")).rows.at(0).at(0)) == 1);
  BOOST_TEST(std::get<std::int64_t>(must(sql("PRAGMA wal_autocheckpoint")).rows.at(0).at(0)) == 0);
  BOOST_TEST(std::get<std::int64_t>(must(sql("PRAGMA synchronous")).rows.at(0).at(0)) == 1);  // NORMAL
  BOOST_TEST(std::get<std::int64_t>(must(sql("PRAGMA cache_size")).rows.at(0).at(0)) == -64000);
}

BOOST_AUTO_TEST_CASE(every_value_type_round_trips_exactly) {
  must(sql("CREATE TABLE v(x)"));
  const std::vector<proto::value> values = {std::monostate{},
                                            std::numeric_limits<std::int64_t>::max(),
                                            std::numeric_limits<std::int64_t>::min(),
                                            std::int64_t{0},
                                            3.5,
                                            std::string("h\xc3\xa9llo"),
                                            std::string(),
                                            proto::blob{{0, 1, 0, 255}},
                                            proto::blob{}};
  for (const auto& v : values)
    must(sql("INSERT INTO v VALUES(?)", {v}));
  auto r = must(sql("SELECT x FROM v ORDER BY rowid"));
  BOOST_REQUIRE(r.rows.size() == values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    BOOST_TEST((r.rows[i][0] == values[i]), "value " << i);
}

BOOST_AUTO_TEST_CASE(booleans_bind_as_one_and_zero) {
  must(sql("CREATE TABLE b(x)"));
  must(sql("INSERT INTO b VALUES(?), (?)", {true, false}));
  auto r = must(sql("SELECT x, typeof(x) FROM b ORDER BY rowid"));
  BOOST_REQUIRE(r.rows.size() == 2u);
  BOOST_TEST((r.rows[0] == std::vector<proto::value>{std::int64_t{1}, std::string("integer")}));
  BOOST_TEST((r.rows[1] == std::vector<proto::value>{std::int64_t{0}, std::string("integer")}));
}

BOOST_AUTO_TEST_CASE(named_parameters_with_any_prefix_or_none) {
  proto::statement s{
      "SELECT :a, @b, $c", {}, {{"a", std::int64_t{1}}, {"@b", std::int64_t{2}}, {"$c", std::int64_t{3}}}};
  auto r = must(s);
  BOOST_TEST((r.rows.at(0) == std::vector<proto::value>{std::int64_t{1}, std::int64_t{2}, std::int64_t{3}}));
}

BOOST_AUTO_TEST_CASE(parameter_mismatches_are_bad_params) {
  auto fewer = run(sql("SELECT ?, ?", {std::int64_t{1}}));
  BOOST_REQUIRE(fewer.has_error());
  BOOST_TEST(fewer.error().code == "BAD_PARAMS");
  BOOST_TEST(run(sql("SELECT 1", {std::int64_t{1}})).error().code == "BAD_PARAMS");
  proto::statement unknown{"SELECT :a", {}, {{"b", std::int64_t{1}}}};
  BOOST_TEST(run(unknown).error().code == "BAD_PARAMS");
  proto::statement missing{"SELECT :a, :b", {}, {{"a", std::int64_t{1}}}};
  auto r = run(missing);
  BOOST_REQUIRE(r.has_error());
  BOOST_TEST(r.error().message.find(":b") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cached_statements_rebind_cleanly) {
  must(sql("CREATE TABLE t(x)"));
  for (std::int64_t i = 0; i < 5; ++i)
    must(sql("INSERT INTO t VALUES(?)", {i}));
  auto r = must(sql("SELECT count(*), sum(x) FROM t"));
  BOOST_TEST(std::get<std::int64_t>(r.rows[0][0]) == 5);
  BOOST_TEST(std::get<std::int64_t>(r.rows[0][1]) == 10);
}

BOOST_AUTO_TEST_CASE(counts_and_last_insert_id) {
  must(sql("CREATE TABLE t(id INTEGER PRIMARY KEY, x)"));
  auto ins = must(sql("INSERT INTO t(x) VALUES(1),(2),(3)"));
  BOOST_TEST(ins.rows_affected == 3);
  BOOST_TEST(ins.last_insert_id.value_or(0) == 3);
  BOOST_TEST(must(sql("CREATE INDEX tx ON t(x)")).rows_affected == 0);  // DDL does not repeat the last count
  BOOST_TEST(must(sql("UPDATE t SET x = 0 WHERE id > 5")).rows_affected == 0);
  BOOST_TEST(must(sql("SELECT * FROM t")).rows_affected == 0);
  auto ret = must(sql("INSERT INTO t(x) VALUES(9) RETURNING id, x"));
  BOOST_TEST(ret.columns == (std::vector<std::string>{"id", "x"}));
  BOOST_TEST(std::get<std::int64_t>(ret.rows.at(0).at(0)) == 4);
}

BOOST_AUTO_TEST_CASE(sql_text_must_hold_exactly_one_statement) {
  BOOST_TEST(run(sql("")).error().code == "BAD_REQUEST");
  BOOST_TEST(run(sql("  -- only a comment")).error().code == "BAD_REQUEST");
  BOOST_TEST(run(sql("SELECT 1; SELECT 2")).error().code == "BAD_REQUEST");
  BOOST_TEST(must(sql("SELECT 1; -- trailing comment")).rows.size() == 1u);
  BOOST_TEST(must(sql("SELECT 1;;  ")).rows.size() == 1u);
}

BOOST_AUTO_TEST_CASE(transaction_control_is_refused) {
  for (const char* text : {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT x", "RELEASE x", "SELECT 1; BEGIN"}) {
    auto r = run(sql(text));
    BOOST_REQUIRE_MESSAGE(r.has_error(), text);
    if (std::string_view(text).find(';') == std::string_view::npos) {
      BOOST_TEST(r.error().code == "SQLITE_AUTH", text);
      BOOST_TEST(r.error().status == 403u);
    }
  }
  BOOST_TEST(sqlite3_get_autocommit(conn.handle()) == 1);
  BOOST_TEST(conn.exec("BEGIN").has_value());  // the server's own statements still may
  BOOST_TEST(conn.exec("ROLLBACK").has_value());
}

BOOST_AUTO_TEST_CASE(read_only_runs_refuse_writes) {
  must(sql("CREATE TABLE t(x)"));
  auto r = run(sql("INSERT INTO t VALUES(1)"), true);
  BOOST_REQUIRE(r.has_error());
  BOOST_TEST(r.error().code == "READONLY");
  BOOST_TEST(std::get<std::int64_t>(must(sql("SELECT count(*) FROM t")).rows[0][0]) == 0);
}

BOOST_AUTO_TEST_CASE(read_only_connection_cannot_write_even_when_asked_directly) {
  must(sql("CREATE TABLE t(x)"));
  auto reader = open_reader();
  auto r = db::run_statement(reader, sql("INSERT INTO t VALUES(1)"), {false, true});
  BOOST_REQUIRE(r.has_error());
  BOOST_TEST(r.error().code.rfind("SQLITE_READONLY", 0) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_CASE(cached_statement_reports_the_new_shape_after_a_schema_change, test::db_fixture) {
  must(sql("CREATE TABLE shape(a)"));
  must(sql("INSERT INTO shape VALUES(1)"));
  BOOST_TEST(must(sql("SELECT * FROM shape")).columns == std::vector<std::string>{"a"});
  must(sql("DROP TABLE shape"));
  must(sql("CREATE TABLE shape(b, c)"));
  must(sql("INSERT INTO shape VALUES(2, 3)"));
  auto r = must(sql("SELECT * FROM shape"));
  BOOST_TEST(r.columns == (std::vector<std::string>{"b", "c"}));
  BOOST_TEST((r.rows.at(0) == std::vector<proto::value>{std::int64_t{2}, std::int64_t{3}}));
  must(sql("DELETE FROM shape"));
  BOOST_TEST(must(sql("SELECT * FROM shape")).columns.size() == 2u);  // names even without rows
}
