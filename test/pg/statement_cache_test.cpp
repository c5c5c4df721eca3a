// Prepared statements cached per connection: what the server holds is read back from the same
// session's pg_prepared_statements (the probe is itself a statement of the cache, counted in).
#include "pg/statement_cache.hpp"

#include <boost/test/unit_test.hpp>

#include "support/pg_async.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {

std::string error_of(const pg::exec_result& r) { return r ? std::string("(no error)") : r.error().error.describe(); }

constexpr const char* probe_sql =
    "SELECT name, generic_plans + custom_plans, parameter_types::text FROM pg_prepared_statements "
    "WHERE statement = $1 ORDER BY prepare_time";

struct cache_fixture : test::pg_fixture {
  // The prepared statements of `conn`'s session for `sql`: name, executions, parameter types.
  std::vector<std::vector<std::optional<std::string>>> prepared(pg::async_connection& conn, const std::string& sql) {
    pg::query_group probe;
    probe.queries.push_back({probe_sql, {test::text_param(sql)}, 0});
    auto done = exec(conn, probe);
    BOOST_REQUIRE_MESSAGE(done, error_of(done));
    return done->at(0).rows;
  }

  pg::exec_result run(pg::async_connection& conn, std::string sql, std::vector<pg::param> params = {}) {
    pg::query_group group;
    group.queries.push_back({std::move(sql), std::move(params), 0});
    return exec(conn, group);
  }

  pg::connect_options with_capacity(std::size_t capacity) {
    pg::connect_options options;
    options.statement_cache_capacity = capacity;
    return options;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pg_statement_cache, cache_fixture)

BOOST_AUTO_TEST_CASE(a_statement_is_prepared_once_per_connection) {
  auto conn = fresh();
  BOOST_REQUIRE(exec(*conn, test::sql_group({"CREATE TABLE t (id int8 PRIMARY KEY, name text)",
                                             "INSERT INTO t VALUES (1, 'one'), (2, NULL)"})));
  const std::string sql = "SELECT id, name FROM t WHERE id >= $1 ORDER BY id";
  auto first = run(*conn, sql, {test::text_param("1")});
  auto second = run(*conn, sql, {test::text_param("1")});
  BOOST_REQUIRE_MESSAGE(first, error_of(first));
  BOOST_REQUIRE_MESSAGE(second, error_of(second));
  BOOST_TEST((first->at(0).rows == second->at(0).rows));
  BOOST_TEST((first->at(0).columns == second->at(0).columns));
  BOOST_TEST((second->at(0).column_oids == std::vector<unsigned>{20, 25}));
  BOOST_TEST(second->at(0).command_tag == "SELECT 2");
  const auto held = prepared(*conn, sql);
  BOOST_REQUIRE_EQUAL(held.size(), 1u);  // one prepare, two runs
  BOOST_TEST(held[0][0]->starts_with("m"));
  BOOST_TEST(*held[0][1] == "2");
}

BOOST_AUTO_TEST_CASE(a_statement_twice_in_one_group_is_prepared_once) {
  auto conn = fresh();
  auto done = exec(*conn, test::sql_group({"SELECT 7", "SELECT 8", "SELECT 7"}));
  BOOST_REQUIRE_MESSAGE(done, error_of(done));
  BOOST_TEST(*done->at(0).rows.at(0).at(0) == "7");
  BOOST_TEST(*done->at(1).rows.at(0).at(0) == "8");
  BOOST_TEST(*done->at(2).rows.at(0).at(0) == "7");
  const auto held = prepared(*conn, "SELECT 7");
  BOOST_REQUIRE_EQUAL(held.size(), 1u);
  BOOST_TEST(*held[0][1] == "2");
}

BOOST_AUTO_TEST_CASE(different_parameter_types_are_different_entries) {
  auto conn = fresh();
  const std::string sql = "SELECT $1 IS NOT NULL";
  BOOST_REQUIRE(run(*conn, sql, {{25, "x", 0, false}}));
  BOOST_REQUIRE(run(*conn, sql, {{23, "5", 0, false}}));
  BOOST_REQUIRE(run(*conn, sql, {{25, "y", 0, false}}));
  const auto held = prepared(*conn, sql);
  BOOST_REQUIRE_EQUAL(held.size(), 2u);
  BOOST_TEST(*held[0][2] == "{text}");
  BOOST_TEST(*held[0][1] == "2");
  BOOST_TEST(*held[1][2] == "{integer}");
  BOOST_TEST(*held[1][1] == "1");
}

BOOST_AUTO_TEST_CASE(a_failed_prepare_is_its_statements_failure_and_caches_nothing) {
  auto conn = fresh();
  auto syntax = exec(*conn, test::sql_group({"SELECT 1", "SELEC 2", "SELECT 3"}));
  BOOST_REQUIRE(syntax.has_error());
  BOOST_TEST(syntax.error().statement_index == 1u);
  BOOST_TEST(syntax.error().error.sqlstate == "42601");
  BOOST_TEST(syntax.error().error.position == 1);
  BOOST_TEST(syntax.error().error.statement == "SELEC 2");
  BOOST_TEST(prepared(*conn, "SELEC 2").empty());
  BOOST_TEST(prepared(*conn, "SELECT 3").empty());       // aborted, never prepared
  BOOST_TEST(prepared(*conn, "SELECT 1").size() == 1u);  // a session's statement outlives the failed group

  auto missing = run(*conn, "SELECT * FROM nowhere");
  BOOST_REQUIRE(missing.has_error());
  BOOST_TEST(missing.error().statement_index == 0u);
  BOOST_TEST(missing.error().error.sqlstate == "42P01");
  BOOST_TEST(prepared(*conn, "SELECT * FROM nowhere").empty());
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::idle));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"CREATE TABLE nowhere (id int)"})));
  auto found = run(*conn, "SELECT * FROM nowhere");  // prepared again, now that it can be
  BOOST_REQUIRE_MESSAGE(found, error_of(found));
  BOOST_TEST(found->at(0).command_tag == "SELECT 0");
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_is_deallocated_past_the_capacity) {
  auto conn = fresh(with_capacity(3));
  for (const char* sql : {"SELECT 'a'", "SELECT 'b'", "SELECT 'a'", "SELECT 'c'", "SELECT 'd'"})
    BOOST_REQUIRE(run(*conn, sql));
  // 'd' pushed out 'b'; the probe, new, pushes out 'a', deallocated ahead of the probe's next run.
  BOOST_TEST(prepared(*conn, "SELECT 'b'").empty());
  BOOST_TEST(prepared(*conn, "SELECT 'a'").empty());
  BOOST_TEST(prepared(*conn, "SELECT 'c'").size() == 1u);
  BOOST_TEST(prepared(*conn, "SELECT 'd'").size() == 1u);
  auto again = run(*conn, "SELECT 'b'");
  BOOST_REQUIRE_MESSAGE(again, error_of(again));
  BOOST_TEST(*again->at(0).rows.at(0).at(0) == "b");
  const auto held = prepared(*conn, "SELECT 'b'");
  BOOST_REQUIRE_EQUAL(held.size(), 1u);
  BOOST_TEST(*held[0][0] != "m2");  // a new name: names are never reused
}

BOOST_AUTO_TEST_CASE(a_deallocation_waits_for_the_end_of_a_transaction) {
  auto conn = fresh(with_capacity(1));
  BOOST_REQUIRE(run(*conn, "SELECT 'a'"));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"BEGIN", "SELECT 'b'"})));  // pushes out BEGIN, then 'a'
  BOOST_REQUIRE(exec(*conn, test::sql_group({"SELECT 1/0"})).has_error());
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::in_error));
  auto rolled_back = exec(*conn, test::sql_group({"ROLLBACK"}));  // no DEALLOCATE in the failed transaction
  BOOST_REQUIRE_MESSAGE(rolled_back, error_of(rolled_back));
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::idle));
  // Sent in the aborted transaction, the DEALLOCATE of 'b' would have failed and 'b' stayed.
  for (const char* sql : {"SELECT 'a'", "BEGIN", "SELECT 'b'", "SELECT 1/0"})
    BOOST_TEST(prepared(*conn, sql).empty(), sql);
}

// PostgreSQL replans a prepared statement after DDL, but its row type is fixed at the prepare
// (0A000 "cached plan must not change result type"). A group that began outside a transaction
// left nothing behind: it runs once more, the statement prepared again, as if unnamed.
BOOST_AUTO_TEST_CASE(a_changed_row_type_is_prepared_again_and_the_group_rerun) {
  auto conn = fresh();
  BOOST_REQUIRE(exec(*conn, test::sql_group({"CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)"})));
  BOOST_REQUIRE(run(*conn, "SELECT * FROM t"));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"ALTER TABLE t ADD COLUMN extra text DEFAULT 'x'"})));
  auto changed = run(*conn, "SELECT * FROM t");
  BOOST_REQUIRE_MESSAGE(changed, error_of(changed));
  BOOST_TEST((changed->at(0).columns == std::vector<std::string>{"id", "extra"}));
  BOOST_TEST(*changed->at(0).rows.at(0).at(1) == "x");

  BOOST_REQUIRE(exec(*conn, test::sql_group({"ALTER TABLE t ADD COLUMN more int DEFAULT 7"})));
  auto in_its_own_transaction = exec(*conn, test::sql_group({"BEGIN", "SELECT * FROM t", "COMMIT"}));
  BOOST_REQUIRE_MESSAGE(in_its_own_transaction, error_of(in_its_own_transaction));
  BOOST_TEST(in_its_own_transaction->at(1).columns.size() == 3u);
  BOOST_TEST(in_its_own_transaction->at(2).command_tag == "COMMIT");  // rolled back, then run again
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::idle));
  BOOST_TEST(prepared(*conn, "SELECT * FROM t").size() == 1u);  // the stale ones deallocated
}

// Run again, the statements before the stale one would run twice, or in half a transaction.
BOOST_AUTO_TEST_CASE(a_changed_row_type_fails_when_the_group_cannot_be_rerun) {
  auto conn = fresh();
  BOOST_REQUIRE(exec(*conn, test::sql_group({"CREATE TABLE t (id int)", "CREATE TABLE log (n int)"})));
  BOOST_REQUIRE(run(*conn, "SELECT * FROM t"));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"ALTER TABLE t ADD COLUMN a int"})));
  auto committed_before =
      exec(*conn, test::sql_group({"BEGIN", "INSERT INTO log VALUES (1)", "COMMIT", "SELECT * FROM t"}));
  BOOST_REQUIRE(committed_before.has_error());
  BOOST_TEST(committed_before.error().error.sqlstate == "0A000");
  BOOST_TEST(committed_before.error().error.message == "cached plan must not change result type");
  BOOST_TEST(committed_before.error().statement_index == 3u);
  BOOST_TEST(scalar(*conn, "SELECT count(*) FROM log") == "1");  // inserted once

  BOOST_REQUIRE(run(*conn, "SELECT * FROM t"));  // prepared again, (id, a)
  BOOST_REQUIRE(exec(*conn, test::sql_group({"ALTER TABLE t ADD COLUMN b int"})));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"BEGIN", "INSERT INTO log VALUES (2)"})));
  auto in_a_transaction = run(*conn, "SELECT * FROM t");  // opened by an earlier exec
  BOOST_REQUIRE(in_a_transaction.has_error());
  BOOST_TEST(in_a_transaction.error().error.sqlstate == "0A000");
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::in_error));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"ROLLBACK"})));
  auto next = run(*conn, "SELECT * FROM t");
  BOOST_REQUIRE_MESSAGE(next, error_of(next));
  BOOST_TEST(next->at(0).columns.size() == 3u);
  BOOST_TEST(scalar(*conn, "SELECT count(*) FROM log") == "1");
}

BOOST_AUTO_TEST_CASE(a_statement_the_server_forgot_is_prepared_again) {
  auto conn = fresh();
  BOOST_REQUIRE(run(*conn, "SELECT 42"));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"DEALLOCATE ALL"})));
  auto forgotten = run(*conn, "SELECT 42");
  BOOST_REQUIRE_MESSAGE(forgotten, error_of(forgotten));
  BOOST_TEST(*forgotten->at(0).rows.at(0).at(0) == "42");
  BOOST_TEST(prepared(*conn, "SELECT 42").size() == 1u);
}

BOOST_AUTO_TEST_CASE(prepare_false_sends_every_statement_unnamed) {
  pg::connect_options options;
  options.prepare = false;
  auto conn = fresh(options);
  BOOST_REQUIRE(run(*conn, "SELECT 5"));
  BOOST_REQUIRE(run(*conn, "SELECT 5"));
  auto all = exec(*conn, test::sql_group({"SELECT count(*) FROM pg_prepared_statements"}));
  BOOST_REQUIRE_MESSAGE(all, error_of(all));
  BOOST_TEST(*all->at(0).rows.at(0).at(0) == "0");
}

BOOST_AUTO_TEST_SUITE_END()

// The bookkeeping alone, without a server.
BOOST_AUTO_TEST_SUITE(pg_statement_cache_book)

BOOST_AUTO_TEST_CASE(names_are_unique_and_evictions_are_handed_over_once) {
  pg::statement_cache cache(2);
  const pg::statement_key a{"SELECT 1", {}}, b{"SELECT 1", {23}}, c{"SELECT 2", {}};
  cache.insert(a, cache.next_name());
  cache.insert(b, cache.next_name());
  BOOST_TEST(cache.find(a).value() == "m1");  // now b is the least recently used
  cache.insert(c, cache.next_name());
  BOOST_TEST(!cache.find(b).has_value());
  BOOST_TEST((cache.take_deallocations() == std::vector<std::string>{"m2"}));
  BOOST_TEST(cache.take_deallocations().empty());
  cache.evict(c, "m9", true);  // another name: not this entry
  BOOST_TEST(cache.find(c).value() == "m3");
  cache.evict(c, "m3", false);
  BOOST_TEST(cache.size() == 1u);
  BOOST_TEST(cache.take_deallocations().empty());
}

BOOST_AUTO_TEST_SUITE_END()
