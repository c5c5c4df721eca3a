// SQLite's placeholders as PostgreSQL's $n: what is rewritten, what is left alone, and binding with
// the SQLite engine's errors (checked against the SQLite engine itself).
#include "pg/placeholders.hpp"

#include <boost/test/unit_test.hpp>

#include "support/db_fixture.hpp"

using namespace monolite;
using pg::translate_placeholders;

namespace {

pg::translated_sql translate(std::string_view sql, int max_params = 0) {
  auto translated = translate_placeholders(sql, max_params);
  BOOST_REQUIRE_MESSAGE(translated.has_value(), std::string(sql) + ": " + translated.error().message);
  return *translated;
}

std::string rewritten(std::string_view sql) { return translate(sql).sql; }

using names = std::vector<std::string>;
using slots = std::vector<int>;

proto::statement positional(std::string sql, std::vector<proto::value> values) {
  return {std::move(sql), std::move(values), {}};
}
proto::statement named(std::string sql, std::vector<proto::named_param> values) {
  return {std::move(sql), {}, std::move(values)};
}

std::vector<proto::value> bound(const proto::statement& s) {
  auto values = pg::bind_placeholders(translate(s.sql), s);
  BOOST_REQUIRE_MESSAGE(values.has_value(), s.sql + ": " + values.error().message);
  std::vector<proto::value> out;
  for (const auto* v : *values)
    out.push_back(*v);
  return out;
}

proto::api_error bind_error(const proto::statement& s) {
  auto values = pg::bind_placeholders(translate(s.sql), s);
  BOOST_REQUIRE(values.has_error());
  return values.error();
}

proto::api_error translate_error(std::string_view sql, int max_params) {
  auto translated = translate_placeholders(sql, max_params);
  BOOST_REQUIRE(translated.has_error());
  return translated.error();
}

proto::value i(std::int64_t n) { return n; }

}  // namespace

BOOST_AUTO_TEST_SUITE(pg_placeholders)

BOOST_AUTO_TEST_CASE(statements_are_counted_by_their_semicolons_outside_quotes_and_comments) {
  BOOST_TEST(translate("").statements == 0u);
  BOOST_TEST(translate("  -- nothing\n /* here */ ;").statements == 0u);
  BOOST_TEST(translate("SELECT 1;  -- done").statements == 1u);
  BOOST_TEST(translate("SELECT 1; SELECT 2").statements == 2u);
  BOOST_TEST(translate("SELECT ';', \";\" FROM t -- ;\n /* ; */").statements == 1u);
  BOOST_TEST(translate("DO $$ BEGIN PERFORM 1; PERFORM 2; END $$;").statements == 1u);
  BOOST_TEST(translate("CREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1; $fn$ LANGUAGE sql").statements == 1u);
}

BOOST_AUTO_TEST_CASE(question_marks_number_as_sqlite_numbers_them) {
  auto plain = translate("SELECT ?, ?");
  BOOST_TEST(plain.sql == "SELECT $1, $2");
  BOOST_TEST(plain.names == (names{"", ""}), boost::test_tools::per_element());
  // ?2 is 2, the next ? one more than the largest so far (3), ?1 is 1.
  auto mixed = translate("SELECT ?2, ?, ?1");
  BOOST_TEST(mixed.sql == "SELECT $2, $3, $1");
  BOOST_TEST(mixed.names == (names{"?1", "?2", ""}), boost::test_tools::per_element());
  BOOST_TEST(mixed.slots == (slots{1, 2, 3}), boost::test_tools::per_element());
  BOOST_TEST(rewritten("SELECT ?01 + ?1") == "SELECT $1 + $1");
}

BOOST_AUTO_TEST_CASE(an_index_no_parameter_uses_gets_no_dollar) {
  auto gap = translate("SELECT ?3, ?");
  BOOST_TEST(gap.sql == "SELECT $1, $2");
  BOOST_TEST(gap.names == (names{"", "", "?3", ""}), boost::test_tools::per_element());
  BOOST_TEST(gap.slots == (slots{3, 4}), boost::test_tools::per_element());
  BOOST_TEST((bound(positional("SELECT ?3, ?", {i(1), i(2), i(3), i(4)})) == std::vector<proto::value>{i(3), i(4)}));
}

BOOST_AUTO_TEST_CASE(the_same_name_is_the_same_dollar) {
  auto t = translate("SELECT :a, @a, $a, :a, @x + @x, :b_2");
  BOOST_TEST(t.sql == "SELECT $1, $2, $3, $1, $4 + $4, $5");
  BOOST_TEST(t.names == (names{":a", "@a", "$a", "@x", ":b_2"}), boost::test_tools::per_element());
  BOOST_TEST(rewritten("SELECT :\xc3\xa9t\xc3\xa9") == "SELECT $1");
}

BOOST_AUTO_TEST_CASE(numbers_and_names_share_indexes_as_in_sqlite) {
  BOOST_TEST(translate("SELECT :a, ?1").names == (names{":a"}), boost::test_tools::per_element());
  BOOST_TEST(rewritten("SELECT :a, ?1") == "SELECT $1, $1");
  BOOST_TEST(rewritten("SELECT ?1, :a") == "SELECT $1, $2");
  BOOST_TEST(rewritten("SELECT ?3, :a, ?") == "SELECT $1, $2, $3");
}

BOOST_AUTO_TEST_CASE(postgresql_dollar_numbers_are_positions) {
  auto t = translate("SELECT * FROM t WHERE a = $2 AND b = $1::int");
  BOOST_TEST(t.sql == "SELECT * FROM t WHERE a = $2 AND b = $1::int");
  BOOST_TEST(t.names == (names{"$1", "$2"}), boost::test_tools::per_element());
  BOOST_TEST((bound(positional(t.sql, {i(10), i(20)})) == std::vector<proto::value>{i(10), i(20)}));
  BOOST_TEST((bound(named(t.sql, {{"$2", i(20)}, {"1", i(10)}})) == std::vector<proto::value>{i(10), i(20)}));
  BOOST_TEST(rewritten("SELECT $1abc") == "SELECT $1");  // not digits only: SQLite's named form
}

BOOST_AUTO_TEST_CASE(nothing_changes_inside_string_literals) {
  BOOST_TEST(rewritten("SELECT 'it''s ?', ?") == "SELECT 'it''s ?', $1");
  BOOST_TEST(rewritten("SELECT '\\', ?") == "SELECT '\\', $1");  // no backslash escapes in '…'
  BOOST_TEST(rewritten("SELECT E'\\' ?', ?") == "SELECT E'\\' ?', $1");
  BOOST_TEST(rewritten("SELECT e'\\\\', ?") == "SELECT e'\\\\', $1");
  BOOST_TEST(rewritten("SELECT E'it''s :a', :b") == "SELECT E'it''s :a', $1");
  BOOST_TEST(rewritten("SELECT U&'d\\0061t ?', ?") == "SELECT U&'d\\0061t ?', $1");
  BOOST_TEST(rewritten("SELECT 'never closed ?") == "SELECT 'never closed ?");
}

BOOST_AUTO_TEST_CASE(a_continued_escape_string_keeps_its_escapes) {
  // E'a' '\' ?' across a newline is one escape string: \' is a quote, the literal ends after ?.
  BOOST_TEST(rewritten("SELECT E'a'\n  '\\' ?', ?") == "SELECT E'a'\n  '\\' ?', $1");
  BOOST_TEST(rewritten("SELECT E'a' '?', ?") == "SELECT E'a' '?', $1");  // no newline: two literals
}

BOOST_AUTO_TEST_CASE(nothing_changes_in_quoted_identifiers_and_comments) {
  BOOST_TEST(rewritten(R"(SELECT "a?""b:c" FROM t WHERE x = ?)") == R"(SELECT "a?""b:c" FROM t WHERE x = $1)");
  BOOST_TEST(rewritten("SELECT ? -- and :a ?\n, ?") == "SELECT $1 -- and :a ?\n, $2");
  BOOST_TEST(rewritten("SELECT ? -- :a") == "SELECT $1 -- :a");
  BOOST_TEST(rewritten("SELECT /* a /* ? */ :b */ ?") == "SELECT /* a /* ? */ :b */ $1");
  BOOST_TEST(rewritten("SELECT 1 - ?, 4 / ?") == "SELECT 1 - $1, 4 / $2");
}

BOOST_AUTO_TEST_CASE(nothing_changes_in_dollar_quoted_strings) {
  BOOST_TEST(rewritten("SELECT $$ ? $$, ?") == "SELECT $$ ? $$, $1");
  BOOST_TEST(rewritten("CREATE FUNCTION f() AS $fn$ SELECT :x, $$?$$ $fn$ LANGUAGE sql") ==
             "CREATE FUNCTION f() AS $fn$ SELECT :x, $$?$$ $fn$ LANGUAGE sql");
  BOOST_TEST(rewritten("SELECT $a$ $b$ ? $a$, $b") == "SELECT $a$ $b$ ? $a$, $1");
  BOOST_TEST(rewritten("SELECT $q$ never closed ?") == "SELECT $q$ never closed ?");
}

BOOST_AUTO_TEST_CASE(casts_assignments_and_operators_are_not_parameters) {
  auto cast = translate("SELECT a::text = :a, $b::int, ?::jsonb FROM t");
  BOOST_TEST(cast.sql == "SELECT a::text = $1, $2::int, $3::jsonb FROM t");
  BOOST_TEST(cast.names == (names{":a", "$b", ""}), boost::test_tools::per_element());
  BOOST_TEST(translate("DO $$ BEGIN x := 1; END $$").names.empty());
  BOOST_TEST(translate("SELECT x := 1").names.empty());
  BOOST_TEST(rewritten("SELECT a[1:2], a[2:3]") == "SELECT a[1:2], a[2:3]");
  BOOST_TEST(translate("SELECT tsv @@ q, a <@ b, a<@b, a@>b, x@@y").names.empty());
  BOOST_TEST(rewritten("SELECT a$b, c$ FROM t$1") == "SELECT a$b, c$ FROM t$1");  // identifiers may hold $
  BOOST_TEST(rewritten("SELECT @, :, $, ?") == "SELECT @, :, $, $1");
}

BOOST_AUTO_TEST_CASE(too_many_parameters_fail_as_in_sqlite) {
  for (const char* sql : {"SELECT ?, ?, ?, ?", "SELECT :a, :b, :c, :d", "SELECT ?3, ?"}) {
    auto e = translate_error(sql, 3);
    BOOST_TEST(e.status == 400u);
    BOOST_TEST(e.code == "SQLITE_ERROR");
    BOOST_TEST(e.message == "too many SQL variables");
  }
  for (const char* sql : {"SELECT ?4", "SELECT ?0", "SELECT $4", "SELECT ?99999999999999999999999"}) {
    auto e = translate_error(sql, 3);
    BOOST_TEST(e.code == "SQLITE_ERROR");
    BOOST_TEST(e.message == "variable number must be between ?1 and ?3");
  }
  BOOST_TEST(translate("SELECT ?3, :a, :a", 4).names.size() == 4u);
  BOOST_TEST(translate("SELECT ?32766").names.size() == 32766u);  // 0: SQLite's default limit
  BOOST_TEST(translate_error("SELECT ?32767", 0).message == "variable number must be between ?1 and ?32766");
}

BOOST_AUTO_TEST_CASE(values_come_in_dollar_order) {
  BOOST_TEST((bound(positional("SELECT ?2, ?1", {i(1), i(2)})) == std::vector<proto::value>{i(1), i(2)}));
  BOOST_TEST((bound(named("SELECT :b, :a, :b", {{"a", i(1)}, {":b", i(2)}})) == std::vector<proto::value>{i(2), i(1)}));
  BOOST_TEST(bound(positional("SELECT 1", {})).empty());
  const auto statement = positional("SELECT ?", {std::string("x")});
  auto values = pg::bind_placeholders(translate(statement.sql), statement);
  BOOST_REQUIRE(values.has_value());
  BOOST_TEST(values->at(0) == &statement.positional[0]);  // points into the statement: no copy
}

BOOST_AUTO_TEST_CASE(a_prefixed_name_matches_only_itself_a_bare_one_any_prefix) {
  BOOST_TEST(bind_error(named("SELECT @id", {{":id", i(1)}})).message ==
             "the statement has no parameter named \":id\"");
  BOOST_TEST((bound(named("SELECT @id", {{"id", i(1)}})) == std::vector<proto::value>{i(1)}));
  // A bare name binds the first of :id, @id, $id; the others are then left without a value.
  auto e = bind_error(named("SELECT @id, :id", {{"id", i(1)}}));
  BOOST_TEST(e.message == "no value for parameter @id");
}

BOOST_AUTO_TEST_CASE(binding_errors_are_bad_params) {
  auto count = bind_error(positional("SELECT ?, ?", {i(1)}));
  BOOST_TEST(count.status == 400u);
  BOOST_TEST(count.code == "BAD_PARAMS");
  BOOST_TEST(count.message == "the statement takes 2 parameters, got 1");
  BOOST_TEST(bind_error(positional("SELECT ?3", {i(1)})).message == "the statement takes 3 parameters, got 1");
  BOOST_TEST(bind_error(named("SELECT :a", {{"b", i(1)}})).message == "the statement has no parameter named \"b\"");
  BOOST_TEST(bind_error(named("SELECT :a, :b", {{"a", i(1)}})).message == "no value for parameter :b");
  BOOST_TEST(bind_error(named("SELECT :a, ?", {{"a", i(1)}})).message == "no value for parameter ?2");
  BOOST_TEST(bind_error(named("SELECT ?3, :a", {{"a", i(1)}})).message == "no value for parameter ?1");
}

BOOST_AUTO_TEST_SUITE_END()

// The same statements on the SQLite engine: the same names, and the same errors word for word.
BOOST_FIXTURE_TEST_SUITE(pg_placeholders_like_sqlite, test::db_fixture)

BOOST_AUTO_TEST_CASE(parameter_names_match_sqlites) {
  for (const char* sql : {"SELECT ?, ?", "SELECT ?2, ?, ?1", "SELECT ?3, ?", "SELECT :a, @a, $a, :a, @x + @x",
                          "SELECT :a, ?1", "SELECT ?1, :a", "SELECT ?3, :a, ?", "SELECT 'it''s ?', ?",
                          "SELECT 1 AS \"a?\"\"b:c\", ? -- :x\n, /* ? */ @y", "SELECT ?01 + ?1"}) {
    auto description = db::describe_statement(conn, sql);
    BOOST_REQUIRE_MESSAGE(description.has_value(), sql);
    BOOST_TEST(translate(sql).names == description->params, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(binding_errors_match_sqlites) {
  const std::vector<proto::statement> statements = {
      positional("SELECT ?, ?", {i(1)}),        positional("SELECT ?3", {i(1)}),
      positional("SELECT 1", {i(1)}),           named("SELECT :a", {{"b", i(1)}}),
      named("SELECT :a, :b", {{"a", i(1)}}),    named("SELECT :a, ?", {{"a", i(1)}}),
      named("SELECT ?3, :a", {{"a", i(1)}}),    named("SELECT @id", {{":id", i(1)}}),
      named("SELECT @id, :id", {{"id", i(1)}}),
  };
  for (const auto& s : statements) {
    auto sqlite = run(s);
    BOOST_REQUIRE_MESSAGE(sqlite.has_error(), s.sql);
    auto ours = bind_error(s);
    BOOST_TEST(ours.status == sqlite.error().status);
    BOOST_TEST(ours.code == sqlite.error().code);
    BOOST_TEST(ours.message == sqlite.error().message);
  }
}

BOOST_AUTO_TEST_CASE(limit_errors_match_sqlites) {
  options.max_params = 3;
  conn = open_writer();
  for (const char* sql : {"SELECT ?, ?, ?, ?", "SELECT :a, :b, :c, :d", "SELECT ?4", "SELECT ?0"}) {
    auto sqlite = run(test::sql(sql));
    BOOST_REQUIRE_MESSAGE(sqlite.has_error(), sql);
    auto ours = translate_error(sql, 3);
    BOOST_TEST(ours.status == sqlite.error().status);
    BOOST_TEST(ours.code == sqlite.error().code);
    BOOST_TEST(ours.message == sqlite.error().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
