#include "move/sqlite_isms.hpp"

#include <boost/test/unit_test.hpp>

using namespace monolite::move;

namespace {

std::vector<std::string> found(std::string_view sql) {
  std::vector<std::string> out;
  for (const auto& ism : find_sqlite_isms(sql))
    out.push_back(ism.found);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(move_sqlite_isms)

BOOST_AUTO_TEST_CASE(anonymous_placeholders_are_numbered_in_order) {
  const auto out = to_postgres_placeholders("SELECT * FROM t WHERE a = ? AND b = ?");
  BOOST_TEST(out.sql == "SELECT * FROM t WHERE a = $1 AND b = $2");
  BOOST_TEST(out.parameters == 2);
}

BOOST_AUTO_TEST_CASE(numbered_and_named_placeholders_follow_sqlite) {
  // ?3 takes 3; the next ? takes 4; a name reused keeps its number.
  const auto out = to_postgres_placeholders("UPDATE t SET a = ?3, b = ?, c = :name, d = @other, e = :name, f = $x");
  BOOST_TEST(out.sql == "UPDATE t SET a = $3, b = $4, c = $5, d = $6, e = $5, f = $7");
  BOOST_TEST(out.parameters == 7);
}

BOOST_AUTO_TEST_CASE(quoted_text_names_and_comments_keep_their_question_marks) {
  const auto out = to_postgres_placeholders(
      "SELECT 'is it?', \"col?\", [odd?], `x?` -- why?\n /* what? */ FROM t WHERE a = ? AND b = 'it''s ?'");
  BOOST_TEST(out.sql ==
             "SELECT 'is it?', \"col?\", [odd?], `x?` -- why?\n /* what? */ FROM t WHERE a = $1 AND b = 'it''s ?'");
  BOOST_TEST(out.parameters == 1);
}

BOOST_AUTO_TEST_CASE(text_without_placeholders_is_unchanged) {
  const auto out = to_postgres_placeholders("SELECT 1");
  BOOST_TEST(out.sql == "SELECT 1");
  BOOST_TEST(out.parameters == 0);
  BOOST_TEST(to_postgres_placeholders("").sql.empty());
  // An unclosed quote swallows the rest: nothing inside it is a placeholder.
  BOOST_TEST(to_postgres_placeholders("SELECT 'open ?").sql == "SELECT 'open ?");
}

BOOST_AUTO_TEST_CASE(statements_are_classified_by_their_first_keyword) {
  BOOST_TEST((classify_statement("  select 1") == statement_kind::query));
  BOOST_TEST((classify_statement("/* c */ WITH x AS (SELECT 1) SELECT * FROM x") == statement_kind::query));
  BOOST_TEST((classify_statement("insert or replace into t values (1)") == statement_kind::query));
  BOOST_TEST((classify_statement("CREATE TABLE t (a)") == statement_kind::schema));
  BOOST_TEST((classify_statement("begin immediate") == statement_kind::transaction));
  BOOST_TEST((classify_statement("PRAGMA journal_mode") == statement_kind::sqlite_only));
  BOOST_TEST((classify_statement(" -- nothing\n ;") == statement_kind::empty));
}

BOOST_AUTO_TEST_CASE(the_usual_sqlite_isms_are_found) {
  BOOST_TEST(found("INSERT OR REPLACE INTO t VALUES (?)") == std::vector<std::string>{"INSERT OR REPLACE"});
  BOOST_TEST(found("insert or ignore into t values (?)") == std::vector<std::string>{"INSERT OR IGNORE"});
  BOOST_TEST(found("SELECT ifnull(a, ?) FROM t") == std::vector<std::string>{"IFNULL(…)"});
  BOOST_TEST(found("SELECT * FROM t WHERE ts > datetime('now', '-1 day')") == std::vector<std::string>{"datetime(…)"});
  BOOST_TEST(found("SELECT strftime('%Y', ts) FROM t") == std::vector<std::string>{"strftime(…)"});
  BOOST_TEST(found("SELECT group_concat(name) FROM t") == std::vector<std::string>{"GROUP_CONCAT(…)"});
  BOOST_TEST(found("SELECT * FROM t LIMIT -1 OFFSET ?") == std::vector<std::string>{"LIMIT -1"});
  BOOST_TEST(found("CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT)") ==
             std::vector<std::string>{"AUTOINCREMENT"});
  BOOST_TEST(found("BEGIN IMMEDIATE") == std::vector<std::string>{"BEGIN IMMEDIATE"});
}

BOOST_AUTO_TEST_CASE(isms_inside_quotes_or_comments_are_not_found) {
  BOOST_TEST(found("SELECT 'ifnull(', \"group_concat\" FROM t -- datetime(\n").empty());
  BOOST_TEST(found("SELECT coalesce(a, 1) FROM t LIMIT 10").empty());
  // A column called limit_x or a function ending in _date is not an ism.
  BOOST_TEST(found("SELECT my_date(x), limit_x FROM t").empty());
}

BOOST_AUTO_TEST_CASE(postgres_errors_reveal_quoted_strings_and_integer_booleans) {
  const auto quoted =
      hints_from_error("SELECT * FROM t WHERE name = \"bob\"", "42703", "column \"bob\" does not exist");
  BOOST_TEST_REQUIRE(quoted.size() == 1U);
  BOOST_TEST(quoted[0].found == "double-quoted string \"bob\"");
  const auto boolean =
      hints_from_error("SELECT * FROM t WHERE active = 1", "42883", "operator does not exist: boolean = integer");
  BOOST_TEST_REQUIRE(boolean.size() == 1U);
  BOOST_TEST(boolean[0].instead == "TRUE and FALSE");
  // A real missing column written without quotes gets no quote hint.
  BOOST_TEST(hints_from_error("SELECT nope FROM t", "42703", "column \"nope\" does not exist").empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(move_sqlite_isms_at_run_time)

BOOST_AUTO_TEST_CASE(limit_minus_one_is_refused_when_run_even_though_it_prepares) {
  const auto isms = find_sqlite_isms("SELECT * FROM t LIMIT -1");
  BOOST_TEST_REQUIRE(isms.size() == 1U);
  BOOST_TEST(isms[0].refused_when_run == "LIMIT must not be negative");
  BOOST_TEST(find_sqlite_isms("SELECT ifnull(a, 0) FROM t")[0].refused_when_run.empty());
}

BOOST_AUTO_TEST_SUITE_END()
