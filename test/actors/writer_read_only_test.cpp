// The writer's read-only gate (actors/writer_read_only.cpp): what gets in before the switch, what
// is refused after it, and when the switch is answered.
#include <boost/test/unit_test.hpp>

#include "support/actor_fixture.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {

std::future<actors::read_only_state> switch_to(test::actor_fixture& f, actors::writer_actor& w, bool on) {
  auto promise = std::make_shared<std::promise<actors::read_only_state>>();
  auto future = promise->get_future();
  w.set_read_only(on, f.replies.get_executor(), [promise](actors::read_only_state s) { promise->set_value(s); });
  return future;
}

// Runs `sqls` under lease `id`; the reply says whether the work ran.
std::future<actors::lease_reply> exclusive(test::actor_fixture& f, actors::writer_actor& w, actors::lease_id id,
                                           std::vector<std::string> sqls) {
  auto promise = std::make_shared<std::promise<actors::lease_reply>>();
  auto future = promise->get_future();
  w.run_exclusive(
      id,
      [sqls = std::move(sqls)](db::connection& conn, actors::lease_state) {
        for (const auto& sql : sqls)
          (void)conn.exec(sql);  // checked through the rows afterwards
      },
      f.replies.get_executor(), [promise](actors::lease_reply r) { promise->set_value(std::move(r)); });
  return future;
}

void require_read_only_error(const proto::api_error& e) {
  BOOST_TEST(e.status == 503u);
  BOOST_TEST(e.code == "READ_ONLY");
  BOOST_TEST(e.retry_after > 0u);
}

bool answered(std::future<actors::read_only_state>& f) { return f.wait_for(0s) == std::future_status::ready; }

struct read_only_fixture : test::actor_fixture {
  std::shared_ptr<actors::writer_actor> open_with_table(std::chrono::milliseconds timeout = 5s) {
    actors::writer_options o;
    o.transaction_timeout = timeout;
    auto w = open_writer(o);
    auto setup = submit(*w, {"CREATE TABLE t(id INTEGER PRIMARY KEY)"});
    BOOST_REQUIRE(test::wait_for(setup).results.has_value());
    return w;
  }

  std::int64_t rows(actors::writer_actor& w) {
    auto fut = submit(w, {"SELECT count(*) FROM t"});
    auto o = test::wait_for(fut);
    BOOST_REQUIRE(o.results.has_value());
    return std::get<std::int64_t>(o.results->at(0).rows.at(0).at(0));
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(writer_read_only, read_only_fixture)

BOOST_AUTO_TEST_CASE(writes_after_the_switch_are_refused_and_off_serves_them_again) {
  auto writer = open_with_table();
  auto on = switch_to(*this, *writer, true);
  const auto state = test::wait_for(on);
  BOOST_TEST(state.read_only);
  BOOST_TEST(state.commits == 1u);  // the CREATE TABLE
  BOOST_TEST(writer->read_only());
  BOOST_TEST(writer->stats().read_only);

  auto refused = submit(*writer, {"INSERT INTO t VALUES(1)"});
  auto r = test::wait_for(refused);
  BOOST_REQUIRE(r.results.has_error());
  require_read_only_error(r.results.error());
  auto hrana_like = exclusive(*this, *writer, 5, {"INSERT INTO t VALUES(2)"});
  auto e = test::wait_for(hrana_like);
  BOOST_REQUIRE(e.ran.has_error());
  require_read_only_error(e.ran.error());
  BOOST_TEST(writer->stats().queue_depth == 0u);

  auto off = switch_to(*this, *writer, false);
  BOOST_TEST(!test::wait_for(off).read_only);
  auto served = submit(*writer, {"INSERT INTO t VALUES(3)"});
  BOOST_TEST(test::wait_for(served).results.has_value());
  BOOST_TEST(rows(*writer) == 1);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(the_switch_answers_after_the_writes_queued_before_it_committed) {
  auto writer = open_with_table();
  test::writer_gate gate(*this, *writer);
  auto held = submit(*writer, {"SELECT test_gate()"});
  gate.wait_reached();  // the strand is busy: what follows reaches it in this order
  auto before = submit(*writer, {"INSERT INTO t VALUES(1)"});
  auto on = switch_to(*this, *writer, true);
  auto after = submit(*writer, {"INSERT INTO t VALUES(2)"});
  BOOST_TEST(!answered(on));
  gate.release();

  BOOST_TEST(test::wait_for(held).results.has_value());
  BOOST_TEST(test::wait_for(before).results.has_value());
  auto refused = test::wait_for(after);
  BOOST_REQUIRE(refused.results.has_error());
  require_read_only_error(refused.results.error());
  const auto state = test::wait_for(on);
  BOOST_TEST(state.read_only);
  BOOST_TEST(state.commits == 2u);  // CREATE TABLE, then the insert that got in before the switch
  BOOST_TEST(state.commits == writer->write_commits());
  auto off = switch_to(*this, *writer, false);
  test::wait_for(off);
  BOOST_TEST(rows(*writer) == 1);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(the_switch_waits_for_the_lease_holder_who_may_still_commit) {
  auto writer = open_with_table();
  auto begun = exclusive(*this, *writer, 1, {"BEGIN IMMEDIATE", "INSERT INTO t VALUES(1)"});
  BOOST_REQUIRE(test::wait_for(begun).transaction_open);
  auto on = switch_to(*this, *writer, true);
  auto other = exclusive(*this, *writer, 2, {"INSERT INTO t VALUES(2)"});
  auto refused = test::wait_for(other);  // posted after the switch: the strand handled both
  BOOST_REQUIRE(refused.ran.has_error());
  require_read_only_error(refused.ran.error());
  BOOST_TEST(!answered(on));

  auto more = exclusive(*this, *writer, 1, {"INSERT INTO t VALUES(3)"});
  BOOST_REQUIRE(test::wait_for(more).ran.has_value());
  BOOST_TEST(!answered(on));
  auto commit = exclusive(*this, *writer, 1, {"COMMIT"});
  auto committed = test::wait_for(commit);
  BOOST_REQUIRE(committed.ran.has_value());
  BOOST_TEST(!committed.transaction_open);
  const auto state = test::wait_for(on);
  BOOST_TEST(state.read_only);
  BOOST_TEST(state.commits == 2u);
  auto off = switch_to(*this, *writer, false);
  test::wait_for(off);
  BOOST_TEST(rows(*writer) == 2);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(a_lease_left_open_delays_the_switch_until_the_timeout_rolls_it_back) {
  auto writer = open_with_table(300ms);
  auto begun = exclusive(*this, *writer, 1, {"BEGIN IMMEDIATE", "INSERT INTO t VALUES(1)"});
  BOOST_REQUIRE(test::wait_for(begun).transaction_open);
  const auto started = std::chrono::steady_clock::now();
  auto on = switch_to(*this, *writer, true);
  const auto state = test::wait_for(on);
  BOOST_TEST((std::chrono::steady_clock::now() - started >= 250ms));  // not before the lease could end
  BOOST_TEST(state.commits == 1u);
  auto late = exclusive(*this, *writer, 1, {"COMMIT"});  // the holder is told, not refused as a writer
  BOOST_TEST(test::wait_for(late).ran.has_value());
  auto off = switch_to(*this, *writer, false);
  test::wait_for(off);
  BOOST_TEST(rows(*writer) == 0);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(close_answers_a_waiting_switch) {
  auto writer = open_with_table();
  auto begun = exclusive(*this, *writer, 1, {"BEGIN IMMEDIATE", "INSERT INTO t VALUES(1)"});
  BOOST_REQUIRE(test::wait_for(begun).transaction_open);
  auto on = switch_to(*this, *writer, true);
  close(*writer);
  BOOST_TEST(test::wait_for(on).read_only);
}

BOOST_AUTO_TEST_SUITE_END()
