#include <boost/test/unit_test.hpp>

#include "db/sql_text.hpp"

using namespace monolite::db;

BOOST_AUTO_TEST_SUITE(db_sql_text)

BOOST_AUTO_TEST_CASE(transaction_statements_are_recognised_in_any_spelling) {
  using tc = transaction_control;
  const std::vector<std::pair<std::string, tc>> cases = {
      {"BEGIN", tc::begin_deferred},
      {"begin;", tc::begin_deferred},
      {"  Begin Transaction ; ", tc::begin_deferred},
      {"BEGIN DEFERRED", tc::begin_deferred},
      {"BEGIN IMMEDIATE", tc::begin_immediate},
      {"/* x */ begin immediate transaction;", tc::begin_immediate},
      {"BEGIN EXCLUSIVE TRANSACTION", tc::begin_exclusive},
      {"BEGIN TRANSACTION READONLY", tc::begin_readonly},
      {"-- read\nBEGIN READONLY", tc::begin_readonly},
      {"COMMIT", tc::commit},
      {"commit transaction;;", tc::commit},
      {"END", tc::commit},
      {"end transaction", tc::commit},
      {"ROLLBACK", tc::rollback},
      {"rollback -- done", tc::rollback},
      {"ROLLBACK TO sp", tc::none},
      {"SAVEPOINT sp", tc::none},
      {"BEGIN IMMEDIATE READONLY", tc::none},
      {"BEGIN; COMMIT", tc::none},
      {"BEGINNING", tc::none},
      {"SELECT 'BEGIN'", tc::none},
      {"", tc::none},
  };
  for (const auto& [sql, expected] : cases)
    BOOST_TEST((classify_transaction(sql) == expected), sql);
  BOOST_TEST(is_begin(tc::begin_readonly));
  BOOST_TEST(!is_begin(tc::commit));
}

BOOST_AUTO_TEST_CASE(foreign_keys_settings_are_recognised) {
  BOOST_TEST(foreign_keys_setting("PRAGMA foreign_keys=off").value() == false);
  BOOST_TEST(foreign_keys_setting("pragma FOREIGN_KEYS = ON;").value() == true);
  BOOST_TEST(foreign_keys_setting("PRAGMA main.foreign_keys = 0").value() == false);
  BOOST_TEST(foreign_keys_setting("PRAGMA foreign_keys('yes')").value() == true);
  BOOST_TEST(!foreign_keys_setting("PRAGMA foreign_keys").has_value());
  BOOST_TEST(!foreign_keys_setting("PRAGMA foreign_keys = maybe").has_value());
  BOOST_TEST(!foreign_keys_setting("PRAGMA journal_mode = off").has_value());
  BOOST_TEST(!foreign_keys_setting("PRAGMA foreign_keys=off; DROP TABLE t").has_value());
}

BOOST_AUTO_TEST_CASE(statements_split_outside_strings_comments_and_triggers) {
  auto parts = split_statements(
      "CREATE TABLE t(a); -- one; two\nINSERT INTO t VALUES ('x;y'); /* ; */ "
      "CREATE TRIGGER tr AFTER INSERT ON t BEGIN DELETE FROM t; END; SELECT 1");
  BOOST_REQUIRE_EQUAL(parts.size(), 4u);
  BOOST_TEST(parts[1].find("'x;y'") != std::string::npos);
  BOOST_TEST(parts[2].find("END;") != std::string::npos);
  BOOST_TEST(parts[3] == " SELECT 1");
  BOOST_TEST(split_statements("  ;; -- nothing\n").empty());
  BOOST_TEST(split_statements("SELECT 1;").size() == 1u);
  BOOST_TEST(first_keyword("  /* c */ insert into t") == "INSERT");
  BOOST_TEST(first_keyword("(") == "");
}

BOOST_AUTO_TEST_SUITE_END()
