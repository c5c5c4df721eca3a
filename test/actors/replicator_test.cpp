#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>
#include <sqlite3.h>

#include <fstream>
#include <thread>

#include "actors/replicator.hpp"
#include "support/actor_fixture.hpp"
#include "replica/restore.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {

struct replication_fixture : test::actor_fixture {
  std::string replica_url = "file://" + dir.file("replica");
  std::shared_ptr<actors::replicator> replicator;

  std::shared_ptr<actors::writer_actor> open_replicated(actors::replica_options r, actors::writer_options w = {}) {
    auto writer = open_writer(w);
    replicator = actors::replicator::open({replica_url}, r, replies.get_executor()).value();
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

  // Restores the replica into a new file and counts the rows of t there.
  std::int64_t restored_rows(const std::string& name) {
    auto store = replica::open_store(replica_url).value();
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
    sqlite3_exec(db, "SELECT count(*) FROM t", [](void* out, int, char** v, char**) {
      *static_cast<std::int64_t*>(out) = std::atoll(v[0]);
      return 0;
    }, &rows, nullptr);
    sqlite3_close(db);
    return rows;
  }

  void write_rows(actors::writer_actor& writer, int requests) {
    std::vector<std::future<actors::write_outcome>> replies_pending;
    for (int i = 0; i < requests; ++i)
      replies_pending.push_back(submit(writer, {"INSERT INTO t(v) VALUES (randomblob(3000))"}));
    for (auto& r : replies_pending) BOOST_REQUIRE(test::wait_for(r).results.has_value());
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

BOOST_AUTO_TEST_CASE(checkpoints_restart_the_wal_and_the_replica_follows_across_indexes) {
  actors::replica_options r;
  r.interval = 20ms;
  actors::writer_options w;
  w.passive_checkpoint_pages = 20;  // a checkpoint every few requests
  auto writer = open_replicated(r, w);
  auto created = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
  BOOST_REQUIRE(test::wait_for(created).results.has_value());
  for (int round = 0; round < 10; ++round) {
    write_rows(*writer, 30);
    std::this_thread::sleep_for(30ms);
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

BOOST_AUTO_TEST_SUITE_END()
