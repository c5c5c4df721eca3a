#include <boost/test/unit_test.hpp>

#include "db/statement.hpp"
#include "support/actor_fixture.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {

struct exclusive_call {
  std::future<actors::lease_reply> reply;
  std::future<actors::lease_state> state;  // what the work saw
};

// Runs `sqls` as the server's own statements under lease `id`.
exclusive_call exclusive(test::actor_fixture& f, actors::writer_actor& w, actors::lease_id id,
                         std::vector<std::string> sqls) {
  auto reply = std::make_shared<std::promise<actors::lease_reply>>();
  auto state = std::make_shared<std::promise<actors::lease_state>>();
  exclusive_call call{reply->get_future(), state->get_future()};
  w.run_exclusive(
      id,
      [sqls = std::move(sqls), state](db::connection& conn, actors::lease_state s) {
        state->set_value(s);
        for (const auto& sql : sqls)
          (void)conn.exec(sql);  // checked through the rows afterwards
      },
      f.replies.get_executor(), [reply](actors::lease_reply r) { reply->set_value(std::move(r)); });
  return call;
}

actors::lease_reply done(exclusive_call& call) { return test::wait_for(call.reply); }

// Returns once the writer has handled everything submitted before, and what that posted in turn:
// two calls of the lease's holder (which never wait) in a row. Replies land on the one reply
// thread in order, so an answer given before the second call's is already delivered.
void settle(test::actor_fixture& f, actors::writer_actor& w, actors::lease_id holder) {
  for (int i = 0; i < 2; ++i) {
    auto call = exclusive(f, w, holder, {});
    BOOST_REQUIRE((test::wait_for(call.state) == actors::lease_state::held));
    BOOST_REQUIRE(done(call).transaction_open);
  }
}

bool answered(std::future<actors::write_outcome>& f) { return f.wait_for(0s) == std::future_status::ready; }
bool answered(exclusive_call& c) { return c.reply.wait_for(0s) == std::future_status::ready; }

std::vector<std::int64_t> ids(test::actor_fixture& f, actors::writer_actor& w) {
  auto fut = f.submit(w, {"SELECT id FROM t ORDER BY id"});
  auto o = test::wait_for(fut);
  BOOST_REQUIRE(o.results.has_value());
  std::vector<std::int64_t> out;
  for (const auto& row : o.results->at(0).rows)
    out.push_back(std::get<std::int64_t>(row.at(0)));
  return out;
}

struct lease_fixture : test::actor_fixture {
  std::shared_ptr<actors::writer_actor> open_with_table(std::chrono::milliseconds timeout = 5s,
                                                        std::size_t capacity = 4096) {
    actors::writer_options o;
    o.transaction_timeout = timeout;
    o.mailbox_capacity = capacity;
    auto w = open_writer(o);
    auto setup = submit(*w, {"CREATE TABLE t(id INTEGER PRIMARY KEY)"});
    BOOST_REQUIRE(test::wait_for(setup).results.has_value());
    return w;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(writer_lease, lease_fixture)

BOOST_AUTO_TEST_CASE(work_in_autocommit_holds_no_lease) {
  auto w = open_with_table();
  auto call = exclusive(*this, *w, 7, {"INSERT INTO t VALUES (1)"});
  auto r = done(call);
  BOOST_TEST(r.ran.has_value());
  BOOST_TEST(!r.transaction_open);
  BOOST_TEST((test::wait_for(call.state) == actors::lease_state::none));
  auto group = submit(*w, {"INSERT INTO t VALUES (2)"});
  BOOST_TEST(test::wait_for(group).results.has_value());
  BOOST_TEST((ids(*this, *w) == std::vector<std::int64_t>{1, 2}));
  close(*w);
}

BOOST_AUTO_TEST_CASE(group_commits_wait_for_the_lease_and_run_after_it) {
  auto w = open_with_table();
  auto begin = exclusive(*this, *w, 1, {"BEGIN IMMEDIATE", "INSERT INTO t VALUES (1)"});
  BOOST_TEST(done(begin).transaction_open);
  auto group = submit(*w, {"INSERT INTO t VALUES (2)"});
  settle(*this, *w, 1);
  BOOST_TEST(!answered(group));  // held back by the lease
  auto more = exclusive(*this, *w, 1, {"INSERT INTO t VALUES (3)"});
  BOOST_TEST((test::wait_for(more.state) == actors::lease_state::held));
  BOOST_TEST(done(more).transaction_open);
  BOOST_TEST(!answered(group));
  auto commit = exclusive(*this, *w, 1, {"COMMIT"});
  BOOST_TEST(!done(commit).transaction_open);
  BOOST_TEST(test::wait_for(group).results.has_value());
  BOOST_TEST((ids(*this, *w) == std::vector<std::int64_t>{1, 2, 3}));
  close(*w);
}

BOOST_AUTO_TEST_CASE(other_lease_ids_wait_in_order) {
  auto w = open_with_table();
  auto begin = exclusive(*this, *w, 1, {"BEGIN IMMEDIATE", "INSERT INTO t VALUES (1)"});
  BOOST_TEST(done(begin).transaction_open);
  auto second = exclusive(*this, *w, 2, {"BEGIN IMMEDIATE", "INSERT INTO t VALUES (20)"});
  auto third = exclusive(*this, *w, 3, {"INSERT INTO t VALUES (30)"});
  settle(*this, *w, 1);
  BOOST_TEST(!answered(second));
  auto commit = exclusive(*this, *w, 1, {"COMMIT"});
  BOOST_TEST(!done(commit).transaction_open);
  BOOST_TEST(done(second).transaction_open);  // id 2 now holds the writer; id 3 waits again
  settle(*this, *w, 2);
  BOOST_TEST(!answered(third));
  auto end = exclusive(*this, *w, 2, {"COMMIT"});
  BOOST_TEST(!done(end).transaction_open);
  BOOST_TEST(done(third).ran.has_value());
  BOOST_TEST((ids(*this, *w) == std::vector<std::int64_t>{1, 20, 30}));
  close(*w);
}

BOOST_AUTO_TEST_CASE(the_timeout_rolls_back_and_frees_the_writer) {
  auto w = open_with_table(300ms);
  const auto start = std::chrono::steady_clock::now();
  auto abandoned = exclusive(*this, *w, 5, {"BEGIN IMMEDIATE", "INSERT INTO t VALUES (1)"});
  BOOST_TEST(done(abandoned).transaction_open);
  auto group = submit(*w, {"INSERT INTO t VALUES (2)"});
  BOOST_TEST(test::wait_for(group).results.has_value());
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 250ms));
  BOOST_TEST((ids(*this, *w) == std::vector<std::int64_t>{2}));  // the abandoned insert is gone
  auto late = exclusive(*this, *w, 5, {});
  BOOST_TEST((test::wait_for(late.state) == actors::lease_state::expired));
  BOOST_TEST(!done(late).transaction_open);
  auto after = exclusive(*this, *w, 5, {});
  BOOST_TEST((test::wait_for(after.state) == actors::lease_state::none));  // told once
  done(after);
  close(*w);
}

BOOST_AUTO_TEST_CASE(waiting_calls_count_against_the_mailbox) {
  auto w = open_with_table(5s, 2);
  auto begin = exclusive(*this, *w, 1, {"BEGIN IMMEDIATE"});
  BOOST_TEST(done(begin).transaction_open);
  auto waiting = exclusive(*this, *w, 2, {"INSERT INTO t VALUES (1)"});
  auto queued = submit(*w, {"INSERT INTO t VALUES (2)"});
  auto refused = submit(*w, {"INSERT INTO t VALUES (3)"});
  auto r = test::wait_for(refused);
  BOOST_REQUIRE(r.results.has_error());
  BOOST_TEST(r.results.error().code == "OVERLOADED");
  auto commit = exclusive(*this, *w, 1, {"ROLLBACK"});
  BOOST_TEST(done(commit).ran.has_value());
  BOOST_TEST(done(waiting).ran.has_value());
  BOOST_TEST(test::wait_for(queued).results.has_value());
  BOOST_TEST(w->stats().queue_depth == 0u);
  close(*w);
}

BOOST_AUTO_TEST_CASE(close_rolls_back_the_lease_and_answers_the_waiting) {
  auto w = open_with_table();
  auto begin = exclusive(*this, *w, 1, {"BEGIN IMMEDIATE", "INSERT INTO t VALUES (1)"});
  BOOST_TEST(done(begin).transaction_open);
  auto waiting = exclusive(*this, *w, 2, {"INSERT INTO t VALUES (2)"});
  auto group = submit(*w, {"INSERT INTO t VALUES (3)"});
  close(*w);  // posted to the writer's strand after both, so it finds them there
  auto refused = done(waiting);
  BOOST_REQUIRE(refused.ran.has_error());
  BOOST_TEST(refused.ran.error().code == "NOT_READY");
  BOOST_TEST(test::wait_for(group).results.has_value());  // queued group commits still run
  auto after = exclusive(*this, *w, 3, {});
  BOOST_TEST(done(after).ran.error().code == "NOT_READY");
  db::connection_options o = options;
  o.read_only = true;
  auto reader = db::connection::open(o).value();
  auto rows = db::run_statement(reader, {"SELECT id FROM t", {}, {}}, {true, true});
  BOOST_REQUIRE(rows.has_value());
  BOOST_TEST(rows->rows.size() == 1u);  // only the group commit's row
}

BOOST_AUTO_TEST_SUITE_END()
