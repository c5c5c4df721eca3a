#include <boost/test/unit_test.hpp>

#include "support/actor_fixture.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {
struct reader_fixture : test::actor_fixture {
  std::shared_ptr<actors::writer_actor> writer = open_writer();
  reader_fixture() {
    auto setup = submit(*writer, {"CREATE TABLE t(x)", "INSERT INTO t VALUES(42)"});
    BOOST_REQUIRE(test::wait_for(setup).results.has_value());
  }
  ~reader_fixture() { close(*writer); }
  std::unique_ptr<actors::reader_pool> open_pool(std::size_t readers, std::size_t mailbox) {
    std::vector<boost::asio::any_io_executor> executors(readers, db_pool.get_executor());
    return actors::reader_pool::open(executors, options, mailbox).value();
  }
};
}  // namespace

BOOST_FIXTURE_TEST_SUITE(reader_pool, reader_fixture)

BOOST_AUTO_TEST_CASE(reads_see_committed_writes) {
  auto pool = open_pool(2, 8);
  BOOST_TEST(pool->size() == 2u);
  for (int i = 0; i < 4; ++i) {
    auto f = query(*pool, "SELECT x FROM t");
    auto o = test::wait_for(f);
    BOOST_REQUIRE(o.result.has_value());
    BOOST_TEST(std::get<std::int64_t>(o.result->rows.at(0).at(0)) == 42);
  }
}

BOOST_AUTO_TEST_CASE(writes_and_transactions_are_refused) {
  auto pool = open_pool(1, 8);
  auto insert = query(*pool, "INSERT INTO t VALUES(1)");
  auto o = test::wait_for(insert);
  BOOST_REQUIRE(o.result.has_error());
  BOOST_TEST(o.result.error().code == "READONLY");
  BOOST_TEST(o.result.error().status == 400u);
  auto begin = query(*pool, "BEGIN");
  BOOST_TEST(test::wait_for(begin).result.error().code == "SQLITE_AUTH");
  auto pragma = query(*pool, "PRAGMA user_version = 5");
  BOOST_TEST(test::wait_for(pragma).result.has_error());
}

BOOST_AUTO_TEST_CASE(full_readers_answer_503_at_once) {
  auto pool = open_pool(1, 1);
  test::latch_gate gate;
  auto held = std::make_shared<std::promise<proto::result<void>>>();
  auto held_done = held->get_future();
  pool->run(
      0, [waiter = gate.waiter()](db::connection&) { (void)waiter.wait_for(test::patience); }, replies.get_executor(),
      [held](proto::result<void> r) { held->set_value(std::move(r)); });
  auto refused = query(*pool, "SELECT 1");
  auto r = test::wait_for(refused);  // while the one reader is still held: at once, not after it
  BOOST_REQUIRE(r.result.has_error());
  BOOST_TEST(r.result.error().code == "OVERLOADED");
  BOOST_TEST(pool->rejected_full() == 1u);
  BOOST_TEST((held_done.wait_for(0s) == std::future_status::timeout));
  gate.open();
  BOOST_TEST(test::wait_for(held_done).has_value());
}

// A running read holds a snapshot: it counts, with its age, until it returns.
BOOST_AUTO_TEST_CASE(a_running_read_is_a_held_snapshot) {
  auto pool = open_pool(2, 8);
  BOOST_TEST(pool->snapshots().held == 0u);
  std::promise<void> entered;
  test::latch_gate gate;
  std::promise<void> finished;
  pool->run(
      0,
      [&entered, wait = gate.waiter()](db::connection&) {
        entered.set_value();
        (void)wait.wait_for(test::patience);
      },
      replies.get_executor(), [&finished](proto::result<void>) { finished.set_value(); });
  auto in_work = entered.get_future();
  test::wait_for(in_work);
  const auto during = pool->snapshots();
  BOOST_TEST(during.held == 1u);
  BOOST_TEST(during.oldest_stamp != 0);
  BOOST_TEST(during.oldest_seconds(actors::snapshot_clock::now()) >= 0.0);
  gate.open();
  auto done = finished.get_future();
  test::wait_for(done);
  BOOST_TEST(pool->snapshots().held == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
