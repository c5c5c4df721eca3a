#include <boost/test/unit_test.hpp>
#include <chrono>

#include "db/sql_normalize.hpp"

using monolite::db::normalize_sql;

BOOST_AUTO_TEST_SUITE(sql_normalize)

BOOST_AUTO_TEST_CASE(values_become_placeholders_and_only_values_do) {
  BOOST_TEST(normalize_sql("SELECT * FROM t WHERE id = 5") == "SELECT * FROM t WHERE id = ?");
  BOOST_TEST(normalize_sql("SELECT * FROM t WHERE id = 7") == normalize_sql("SELECT * FROM t WHERE id = 5"));
  BOOST_TEST(normalize_sql("INSERT INTO t VALUES('it''s', 'x', '')") == "INSERT INTO t VALUES(?, ?, ?)");
  BOOST_TEST(normalize_sql("SELECT X'00ff', x'', -3") == "SELECT ?, ?, -?");
  BOOST_TEST(normalize_sql("SELECT 1.5, .5, 5., 1e10, 1.5E-3, 2e+7, 0x1F, 0XaB, 1_000") ==
             "SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?");
  BOOST_TEST(normalize_sql("SELECT t1.c2, max(a), x FROM t1") == "SELECT t1.c2, max(a), x FROM t1");
  BOOST_TEST(normalize_sql("SELECT a.b, t.5") == "SELECT a.b, t?");  // `t.5` is t then the number .5
}

BOOST_AUTO_TEST_CASE(zero_and_one_stay_as_flags_do) {
  BOOST_TEST(normalize_sql("SELECT * FROM t WHERE active = 1 AND deleted = 0 LIMIT -1") ==
             "SELECT * FROM t WHERE active = 1 AND deleted = 0 LIMIT -1");
  BOOST_TEST(normalize_sql("SELECT 10, 01, 1.0, 0x1, 2") == "SELECT ?, ?, ?, ?, ?");
}

BOOST_AUTO_TEST_CASE(quoted_names_and_parameters_stay_as_written) {
  BOOST_TEST(normalize_sql(R"(SELECT "a ""b"" 1", [c 2], `d``3` FROM "t")") ==
             R"(SELECT "a ""b"" 1", [c 2], `d``3` FROM "t")");
  BOOST_TEST(normalize_sql("SELECT ?, ?12, :name, @n1, $v_2, :a$b") == "SELECT ?, ?12, :name, @n1, $v_2, :a$b");
  BOOST_TEST(normalize_sql("SELECT 'a' || ?1") == "SELECT ? || ?1");
}

BOOST_AUTO_TEST_CASE(comments_go_and_blanks_collapse) {
  BOOST_TEST(normalize_sql("  SELECT\t2 -- the answer\n  FROM   t ;  ") == "SELECT ? FROM t");
  BOOST_TEST(normalize_sql("SELECT/* c */a/**/FROM t") == "SELECT a FROM t");  // a comment still parts tokens
  BOOST_TEST(normalize_sql("SELECT 2 /* never closed") == "SELECT ?");
  BOOST_TEST(normalize_sql("SELECT 2 -- to the end") == "SELECT ?");
  BOOST_TEST(normalize_sql("SELECT '-- not a comment', \"/* nor this */\"") == "SELECT ?, \"/* nor this */\"");
  BOOST_TEST(normalize_sql("SELECT a-b, a - -3, 4/2") == "SELECT a-b, a - -?, ?/?");
  BOOST_TEST(normalize_sql("SELECT 2;;") == "SELECT ?");
}

BOOST_AUTO_TEST_CASE(empty_and_blank_texts_are_empty) {
  BOOST_TEST(normalize_sql("") == "");
  BOOST_TEST(normalize_sql(" \n\t ") == "");
  BOOST_TEST(normalize_sql("-- only a comment") == "");
  BOOST_TEST(normalize_sql(";") == "");
}

BOOST_AUTO_TEST_CASE(unicode_names_stay_and_unicode_strings_go) {
  BOOST_TEST(normalize_sql("SELECT prénom, 'Grüße 😀' FROM 表 WHERE \"名\" = 'é'") ==
             "SELECT prénom, ? FROM 表 WHERE \"名\" = ?");
}

BOOST_AUTO_TEST_CASE(unclosed_quotes_run_to_the_end) {
  BOOST_TEST(normalize_sql("SELECT 'abc") == "SELECT ?");
  BOOST_TEST(normalize_sql("SELECT \"abc") == "SELECT \"abc");
  BOOST_TEST(normalize_sql("SELECT [abc") == "SELECT [abc");
  BOOST_TEST(normalize_sql("SELECT x'ab") == "SELECT ?");
}

BOOST_AUTO_TEST_CASE(a_giant_statement_is_normalized_in_linear_time) {
  std::string sql = "INSERT INTO t VALUES ";
  for (int i = 2; i < 50002; ++i)  // 0 and 1 would stay as written
    sql += "(" + std::to_string(i) + ", 'row " + std::to_string(i) + "'),";
  sql.back() = ';';
  const auto started = std::chrono::steady_clock::now();
  const auto out = normalize_sql(sql);
  const auto took = std::chrono::steady_clock::now() - started;
  std::string expected = "INSERT INTO t VALUES ";
  for (int i = 0; i < 50000; ++i)
    expected += "(?, ?),";
  expected.pop_back();
  BOOST_TEST((out == expected));  // not printed on failure: a megabyte
  BOOST_TEST_MESSAGE("normalized " << sql.size() << " bytes in "
                                   << std::chrono::duration_cast<std::chrono::microseconds>(took).count() << " us");
  BOOST_TEST((took < std::chrono::seconds(5)));  // ~1 MB; far less unless something is quadratic
}

BOOST_AUTO_TEST_SUITE_END()
