#include <sqlite3.h>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <fstream>

#include "actors/replicator.hpp"
#include "replica/restore.hpp"
#include "support/actor_fixture.hpp"
#include "support/wal_db.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {

struct replication_fixture : test::actor_fixture {
  std::string replica_url = "file://" + dir.file("replica");
  std::shared_ptr<actors::replicator> replicator;

  std::shared_ptr<actors::writer_actor> open_replicated(actors::replica_options r, actors::writer_options w = {},
                                                        std::vector<std::string> urls = {}) {
    auto writer = open_writer(w);
    if (urls.empty()) urls = {replica_url};
    replicator = actors::replicator::open(urls, r, replies.get_executor()).value();
    const auto plan = replicator->plan_resume(options.path);
    std::promise<proto::result<void>> attached;
    auto future = attached.get_future();
    writer->attach_replicator(replicator, plan, replies.get_executor(),
                              [&attached](proto::result<void> ok) { attached.set_value(ok); });
    BOOST_REQUIRE(test::wait_for(future).has_value());
    return writer;
  }

  void close(actors::writer_actor& writer) {
    std::promise<void> closed;
    auto future = closed.get_future();
    writer.close(replies.get_executor(), [&closed] { closed.set_value(); });
    test::wait_for(future);
    replicator->stop();
  }

  // Returns once every replica holds everything through `at` ({0, 0}: the first snapshot).
  void wait_shipped(actors::position at) {
    auto shipped = std::make_shared<std::promise<bool>>();
    auto future = shipped->get_future();
    replicator->when_shipped(at, replies.get_executor(), test::patience,
                             [shipped](bool ok) { shipped->set_value(ok); });
    BOOST_REQUIRE_MESSAGE(test::wait_for(future), "the replicas did not catch up in 30 s");
  }

  // Restores the replica into a new file and counts the rows of t there.
  std::int64_t restored_rows(const std::string& name, std::string url = {}) {
    auto store = replica::open_store(url.empty() ? replica_url : url).value();
    replica::restore_request req;
    req.output = dir.file(name);
    auto done = replica::restore(*store, req);
    BOOST_REQUIRE_MESSAGE(done.has_value(), (done ? "" : done.error().message));
    return count_rows(req.output);
  }

  static std::int64_t count_rows(const std::string& path) {
    sqlite3* db = nullptr;
    sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
    std::int64_t rows = -1;
    sqlite3_exec(
        db, "SELECT count(*) FROM t",
        [](void* out, int, char** v, char**) {
          *static_cast<std::int64_t*>(out) = std::atoll(v[0]);
          return 0;
        },
        &rows, nullptr);
    sqlite3_close(db);
    return rows;
  }

  void write_rows(actors::writer_actor& writer, int requests) {
    std::vector<std::future<actors::write_outcome>> replies_pending;
    for (int i = 0; i < requests; ++i)
      replies_pending.push_back(submit(writer, {"INSERT INTO t(v) VALUES (randomblob(3000))"}));
    for (auto& r : replies_pending)
      BOOST_REQUIRE(test::wait_for(r).results.has_value());
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(replicator, replication_fixture)

BOOST_AUTO_TEST_CASE(sync_mode_replies_only_once_the_replica_can_restore_the_write) {
  actors::replica_options r;
  r.sync = true;
  auto writer = open_replicated(r);
  auto created = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
  BOOST_REQUIRE(test::wait_for(created).results.has_value());
  write_rows(*writer, 200);
  // Every acknowledged write is already restorable, before anything is closed or flushed.
  BOOST_TEST(restored_rows("sync.db") == 200);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(a_held_snapshot_pin_turns_truncate_checkpoints_passive) {
  // A TRUNCATE checkpoint waits for every reader up to the busy timeout, here longer than any wait
  // of this test: were it run while a snapshot pin is held, the writer would stall behind it.
  options.busy_timeout_ms = 120'000;
  actors::replica_options r;
  r.interval = 20ms;
  actors::writer_options w;
  w.passive_checkpoint_pages = w.truncate_checkpoint_pages = 20;
  auto writer = open_replicated(r, w);
  wait_shipped({0, 0});
  auto created = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
  BOOST_REQUIRE(test::wait_for(created).results.has_value());
  std::promise<std::shared_ptr<actors::pinned_snapshot>> pinned;
  auto pin_future = pinned.get_future();
  writer->pin_snapshot([&pinned](auto pin) { pinned.set_value(pin.value()); });
  auto pin = test::wait_for(pin_future);
  for (int round = 0; round < 3; ++round) {  // each round past the threshold, so a checkpoint is due
    const auto checkpoints = writer->stats().checkpoints;
    write_rows(*writer, 30);
    test::wait_until([&] { return writer->stats().checkpoints > checkpoints; }, "a checkpoint while pinned");
  }
  auto after = submit(*writer, {"INSERT INTO t(v) VALUES('after')"});
  BOOST_TEST(test::wait_for(after).results.has_value());  // the writer was not held by the pin
  pin.reset();
  const auto checkpoints = writer->stats().checkpoints;
  write_rows(*writer, 30);  // the next TRUNCATE runs for real
  test::wait_until([&] { return writer->stats().checkpoints > checkpoints; }, "a checkpoint once unpinned");
  close(*writer);
  BOOST_TEST(restored_rows("pinned.db") == 121);
}

BOOST_AUTO_TEST_CASE(checkpoints_restart_the_wal_and_the_replica_follows_across_indexes) {
  actors::replica_options r;
  r.interval = 20ms;
  actors::writer_options w;
  w.passive_checkpoint_pages = 20;  // a checkpoint every few requests
  auto writer = open_replicated(r, w);
  wait_shipped({0, 0});  // no snapshot's read transaction holds a checkpoint back
  auto created = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
  BOOST_REQUIRE(test::wait_for(created).results.has_value());
  for (int round = 0; round < 10; ++round) {
    // Each round writes past the page threshold; its checkpoint (once the replica holds the round)
    // lets the next round restart the WAL.
    const auto checkpoints = writer->stats().checkpoints;
    write_rows(*writer, 30);
    test::wait_until([&] { return writer->stats().checkpoints > checkpoints; }, "a checkpoint after the round");
  }
  BOOST_TEST(writer->stats().checkpoints > 0u);
  close(*writer);  // waits until the replica holds everything
  BOOST_TEST(restored_rows("indexes.db") == 300);
  auto store = replica::open_store(replica_url).value();
  bool second_index = false;
  for (const auto& o : store->list("generations/").value())
    second_index = second_index || o.key.find("/wal/00000001-") != std::string::npos;
  BOOST_TEST(second_index);
}

BOOST_AUTO_TEST_CASE(sync_mode_fails_writes_with_503_when_the_replica_cannot_be_written) {
  std::ofstream(dir.file("not-a-folder")) << "x";  // the replica's root lies under a regular file
  replica_url = "file://" + dir.file("not-a-folder") + "/replica";
  actors::replica_options r;
  r.sync = true;
  r.sync_timeout = 300ms;
  auto writer = open_replicated(r);
  auto created = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
  auto outcome = test::wait_for(created);
  BOOST_REQUIRE(outcome.results.has_error());
  BOOST_TEST(outcome.results.error().status == 503u);
  BOOST_TEST(outcome.results.error().code == "REPLICA_UNAVAILABLE");
  BOOST_TEST(replicator->stats().at(0).errors > 0u);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(a_restart_continues_the_generation_when_the_wal_is_continuous) {
  actors::replica_options r;
  r.interval = 10ms;
  {
    auto writer = open_replicated(r);
    // The snapshot first: the writes after it are WAL segments, which a restart compares with the
    // local WAL. Were it pinned after them (a loaded machine), the generation would end with its
    // snapshot, which cannot be continued, and the restart would rightly start a new one.
    wait_shipped({0, 0});
    auto created = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
    BOOST_REQUIRE(test::wait_for(created).results.has_value());
    write_rows(*writer, 20);
    close(*writer);
  }
  const auto first_generation = replicator->stats().at(0).generation;
  auto writer = open_replicated(r);
  write_rows(*writer, 20);
  close(*writer);
  BOOST_TEST(replicator->stats().at(0).generation == first_generation);
  BOOST_TEST(restored_rows("continued.db") == 40);
}

// The shipper asks the writer for its first snapshot only once it has started: a close() already
// queued by then must still let that pin through, or the replica never gets a snapshot (and close
// waits out its whole bound for nothing).
BOOST_AUTO_TEST_CASE(a_close_right_after_start_still_leaves_a_restorable_replica) {
  auto writer = open_writer();
  auto created = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
  BOOST_REQUIRE(test::wait_for(created).results.has_value());
  write_rows(*writer, 5);
  replicator = actors::replicator::open({replica_url}, {}, replies.get_executor()).value();
  const auto plan = replicator->plan_resume(options.path);
  test::writer_gate gate(*this, *writer);
  auto held = submit(*writer, {"SELECT test_gate()"});
  gate.wait_reached();  // attach and close now queue up in this order; the shipper's pin comes later
  auto attached = std::make_shared<std::promise<bool>>();
  auto attach_done = attached->get_future();
  writer->attach_replicator(replicator, plan, replies.get_executor(),
                            [attached](proto::result<void> ok) { attached->set_value(ok.has_value()); });
  std::promise<void> closed;
  auto close_done = closed.get_future();
  writer->close(replies.get_executor(), [&closed] { closed.set_value(); });
  gate.release();
  BOOST_TEST(test::wait_for(held).results.has_value());
  BOOST_TEST(test::wait_for(attach_done));
  test::wait_for(close_done);
  replicator->stop();
  BOOST_TEST(restored_rows("closed-early.db") == 5);
}

// Two shippers start generations at once, each on its own thread: nothing they share unguarded
// (a generation id's random numbers once were) may race. Run under TSan.
BOOST_AUTO_TEST_CASE(two_replicas_start_generations_concurrently_and_both_restore) {
  const std::vector<std::string> urls = {replica_url, "file://" + dir.file("replica-2")};
  actors::replica_options r;
  r.interval = 10ms;
  std::vector<std::string> first;
  {
    auto writer = open_replicated(r, {}, urls);  // two new generations at once
    auto created = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
    BOOST_REQUIRE(test::wait_for(created).results.has_value());
    for (int round = 0; round < 4; ++round) {  // more of them: a race need not show the first time
      write_rows(*writer, 5);
      replicator->on_discontinuity();
    }
    close(*writer);
    for (const auto& s : replicator->stats())
      first.push_back(s.generation);
  }
  {  // Someone else checkpoints and empties the WAL: neither replica continues it any more.
    test::wal_db outside(options.path);
    outside.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  auto writer = open_replicated(r, {}, urls);  // two new generations at once, again
  write_rows(*writer, 20);
  close(*writer);
  const auto stats = replicator->stats();
  BOOST_REQUIRE(stats.size() == 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    BOOST_TEST(stats[i].generation != first.at(i));
    BOOST_TEST(restored_rows("two-" + std::to_string(i) + ".db", urls[i]) == 40);
  }
}

BOOST_AUTO_TEST_SUITE_END()
