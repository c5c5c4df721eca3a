// replica_shipper — owns one replica (its object store) and the generation it writes there.
// Executor: a strand on a thread of its own; store calls block that thread only. Snapshots are
//   read, compressed and uploaded piece by piece (streamed, never whole in memory) on a second
//   thread of its own, so WAL segments keep flowing meanwhile.
//   Private members run on the strand, upload_snapshot on the snapshot thread (both asserted:
//   common/strand_check.hpp). Compaction passes run on a third thread of their own, started from
//   the strand, never while retention runs (retention waits for the pass to end).
// Replies: when_shipped handlers run on the shipper's thread; callers post onward.
// Mailbox: captured chunks wait in memory up to max_backlog_bytes, counted where they are captured
//   (on_chunk, the writer's thread), so the bound holds while this strand is blocked in an upload.
//   The chunk that would cross it is dropped there, with everything after it, and logged at once;
//   the strand then drops what it held and starts a new generation (with a full snapshot). A long
//   outage or a stalled upload costs memory only up to the bound.
#pragma once
#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/json/object.hpp>
#include <deque>
#include <mutex>
#include <optional>
#include <random>

#include "actors/replica_stats_book.hpp"
#include "actors/replication_types.hpp"
#include "replica/compactor.hpp"
#include "replica/format/wal_segment.hpp"
#include "replica/object_store.hpp"

namespace monolite::actors {

class replica_shipper : public std::enable_shared_from_this<replica_shipper> {
 public:
  replica_shipper(std::shared_ptr<replica::object_store> store, replica_options options, snapshot_pinner pinner);
  ~replica_shipper();

  // Continues `generation` from `resume_at`, or starts a new one (with a snapshot) when empty.
  void start(std::string generation, position resume_at);
  void on_chunk(std::shared_ptr<const db::wal_chunk> chunk);
  // `handler(true)` once everything through `at` is in the store.
  void when_shipped(position at, std::function<void()> handler);
  void snapshot_now();
  // Continuity is lost: drop what is pending and begin a new generation with a snapshot.
  void restart_generation();
  void stop();  // cancels timers and joins the threads; pending work is abandoned
  replica_stats stats() const;

 private:
  struct waiter {
    position at;
    std::function<void()> handler;
  };
  void new_generation();
  void request_pin();
  void on_pinned(proto::result<std::shared_ptr<pinned_snapshot>> pin, const std::string& generation);
  void upload_snapshot(std::shared_ptr<pinned_snapshot> pin, std::string generation);
  void on_snapshot_done(const std::string& generation, position at, bool ok);
  void schedule_pump(bool urgent = false);
  void drop_front();
  void drop_all();
  void accept(std::shared_ptr<const db::wal_chunk> chunk);
  void give_up_backlog();
  void give_memory_back();
  void pump();
  bool upload_segment();
  replica::wal_segment next_segment(std::size_t& used) const;
  void on_failure(const std::string& what, const replica::store_error& error);
  void advance(position shipped);
  void run_retention();
  void run_compaction();
  void on_compaction_done(const replica::compaction_result& result);
  void periodic_snapshot();
  void arm_periodic(boost::asio::steady_timer& timer, std::chrono::milliseconds every, void (replica_shipper::*fn)());
  void publish_stats();

  std::shared_ptr<replica::object_store> store_;
  replica_options options_;
  snapshot_pinner pinner_;
  boost::asio::thread_pool thread_{1}, snapshot_thread_{1}, compact_thread_{1};
  boost::asio::strand<boost::asio::thread_pool::executor_type> strand_;
  boost::asio::steady_timer pump_timer_, snapshot_timer_, retention_timer_, compact_timer_;

  std::string generation_;
  bool generation_ready_ = false;  // the snapshot position of a new generation is known
  bool have_snapshot_ = false;     // the generation has a snapshot in the store
  bool snapshot_running_ = false;
  bool broken_ = false;  // continuity lost: start a new generation
  bool pump_scheduled_ = false;
  position segments_end_;  // chunks up to here are covered (snapshot or segments)
  position snapshot_at_;   // where the newest snapshot (or the continued generation) stands
  // Objects uploaded since retention last listed the store: an idle replica is neither listed
  // nor snapshotted again (what an idle server costs in requests: nothing).
  std::uint64_t uploads_since_retention_ = 0;
  std::uint64_t uploads_since_compaction_ = 0;  // likewise: an idle replica is not compacted again
  bool compacting_ = false;                     // a pass runs on compact_thread_
  bool retention_waiting_ = false;              // retention came due during a pass: it runs after it
  std::atomic<bool> stopping_{false};           // ends a compaction pass at its next object
  std::deque<std::shared_ptr<const db::wal_chunk>> pending_;
  std::size_t pending_bytes_ = 0, pending_frames_ = 0;
  std::size_t peak_bytes_ = 0;  // most held since memory was last given back
  // Bytes of every chunk accepted and not yet dropped: those in pending_ and those posted to the
  // strand but not taken yet. Added on the capturing thread, taken off on the strand.
  std::atomic<std::size_t> held_bytes_{0};
  // Set where a chunk crosses the bound; chunks are dropped at capture until the strand gave up
  // the backlog (give_up_backlog clears it).
  std::atomic<bool> overflowed_{false};
  std::vector<waiter> waiters_;
  unsigned failures_ = 0;
  std::chrono::steady_clock::time_point last_upload_{};
  std::mt19937 random_{std::random_device{}()};  // generation ids; one per shipper (own strand)

  replica_stats_book stats_;
};

}  // namespace monolite::actors
