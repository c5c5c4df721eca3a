// replicator — fans the writer's captured WAL chunks out to one replica_shipper per --replica and
// answers "is everything through position P in every replica?" (sync mode, checkpoint gate).
// Executor: none of its own: each shipper has its own threads; deadlines run on `timers`.
// Replies: when_shipped handlers are posted to the executor the caller names, exactly once:
//   true when every replica holds P, false when the deadline passes first.
// Mailbox: see replica_shipper (bounded backlog per replica; a new generation past it).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <optional>

#include "actors/replica_shipper.hpp"
#include "replica/sealed_store.hpp"

namespace monolite::actors {

// Where the writer's WAL tail starts: which index the live WAL is, and how much of it the
// replica already holds when a generation continues.
struct resume_plan {
  std::string generation;  // empty: every replica starts a new generation
  std::uint32_t index = 0;
  std::optional<std::uint32_t> resume_frame;
  std::uint32_t prev_index_frames = 0;  // the replica ends exactly where the previous index did
};

// Every `--replica` URL opened as a store sealed with `keys` (none: as stored), or the first that
// cannot be (BAD_REPLICA, exit 2).
proto::result<std::vector<std::shared_ptr<replica::sealed_store>>> open_replica_stores(
    const std::vector<std::string>& urls, const replica::seal::keyring& keys);

class replicator {
 public:
  // Each replica is sealed with `keys` (replica/sealed_store.hpp); none: stored as it is.
  static proto::result<std::shared_ptr<replicator>> open(const std::vector<std::string>& urls,
                                                         const replica_options& options,
                                                         boost::asio::any_io_executor timers,
                                                         const replica::seal::keyring& keys = {});
  ~replicator();

  // Blocking (startup only): compares the first replica's newest generation with the live WAL. A
  // generation sealed otherwise than new objects would be (another key, or none) is not continued.
  resume_plan plan_resume(const std::string& db_path);
  void start(const resume_plan& plan, snapshot_pinner pinner);

  void on_chunk(std::shared_ptr<const db::wal_chunk> chunk);
  // The live WAL no longer continues what was captured: every replica starts a new generation.
  void on_discontinuity();
  void when_shipped(position at, boost::asio::any_io_executor reply_to, std::chrono::milliseconds timeout,
                    std::function<void(bool)> handler);
  void snapshot_now();
  void stop();

  bool sync() const { return options_.sync; }
  const replica_options& options() const { return options_; }
  std::vector<replica_stats> stats() const;

 private:
  replicator(std::vector<std::shared_ptr<replica::sealed_store>> stores, replica_options options,
             boost::asio::any_io_executor timers);

  std::vector<std::shared_ptr<replica::sealed_store>> stores_;
  std::vector<std::shared_ptr<replica_shipper>> shippers_;
  replica_options options_;
  boost::asio::any_io_executor timers_;
  snapshot_pinner pinner_;
};

}  // namespace monolite::actors
