// follower — `serve --follow URL`: keeps a copy of a primary's database by libSQL's replication
// protocol (Hello, a Snapshot when the copy is missing or follows another log, then
// BatchLogEntries again and again) and applies it with replica::follow_applier.
// Thread: the pull loop runs on a thread of its own. Its network calls and every apply step block
// (BEGIN EXCLUSIVE waits for readers, fsync), so a strand on a shared pool would only stall the
// pool; everything else here is thread-safe.
// Polling: again at once while frames come, backing off 10 ms → 200 ms when none do; after a
// failure, Hello again after 100 ms → 5 s.
// follower_engine: the engine the routes see on a follower. Queries go to the readers (opened once
// the copy exists); writes and Hrana never reach it (the follow routes forward them).
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "actors/engine.hpp"
#include "actors/reader_pool.hpp"
#include "replica/follow_apply.hpp"
#include "replica/follow_client.hpp"

namespace monolite::actors {

struct follower_options {
  std::string db_path;
  replica::s3_endpoint primary;
  std::string token;  // for the replication calls (read role) and forwarded requests without one
  int busy_timeout_ms = 5000;
};

struct follower_stats {
  std::uint64_t applied_frame = 0;  // the last frame applied (0 before any)
  std::uint64_t primary_frame = 0;  // the primary's last frame, as last heard
  double lag_seconds = 0;           // since the copy was last caught up (0 when it is)
  std::uint64_t snapshots = 0;      // snapshots applied since the start
  bool has_copy = false;
};

class follower {
 public:
  // Opens the copy (finishing an interrupted apply); does not contact the primary yet.
  static proto::result<std::shared_ptr<follower>> open(follower_options options);
  ~follower();

  // Starts the pull loop. `copy_ready` runs once on the loop's thread when a copy exists (at once
  // when one did at open): open the readers there.
  void start(std::function<void()> copy_ready);
  // Stops the loop (an unfinished download is abandoned) and waits for it.
  void stop();

  bool has_copy() const { return next_frame_.load(std::memory_order_acquire) > 0; }
  bool applied(std::uint64_t frame) const { return next_frame_.load(std::memory_order_acquire) > frame; }
  // Calls `done(true)` on `executor` once `frame` is applied, or `done(false)` after `timeout`.
  void wait_for_frame(std::uint64_t frame, std::chrono::milliseconds timeout, boost::asio::any_io_executor executor,
                      std::function<void(bool)> done);
  follower_stats stats() const;
  replica::follow_client& client() { return client_; }

 private:
  struct waiter;
  using page_map = std::map<std::uint32_t, std::string>;
  follower(follower_options options, std::unique_ptr<replica::follow_applier> applier);
  void run();
  bool pull(const std::string& log_id);
  bool take_snapshot(const std::string& log_id);
  bool apply_pages(const page_map& pages, const replica::follow_position& after, std::uint32_t size_after);
  void applied_now();
  void pause(std::chrono::milliseconds delay);
  bool stopping() const { return stop_.load(std::memory_order_acquire); }
  void note_caught_up(bool caught_up);

  follower_options options_;
  replica::follow_client client_;
  std::unique_ptr<replica::follow_applier> applier_;  // the loop's thread only (after start)
  std::function<void()> copy_ready_;
  bool copy_announced_ = false;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex pause_mutex_;
  std::condition_variable pause_cv_;
  std::atomic<std::uint64_t> next_frame_{0};
  std::atomic<std::uint64_t> primary_frame_{0};
  std::atomic<std::uint64_t> snapshots_{0};
  std::atomic<bool> caught_up_{false};
  std::atomic<std::int64_t> last_caught_up_ns_{0};
  std::mutex waiters_mutex_;
  std::vector<std::shared_ptr<waiter>> waiters_;
};

class follower_engine : public engine {
 public:
  follower_engine(std::shared_ptr<follower> f, std::unique_ptr<reader_pool>& readers)
      : follower_(std::move(f)), readers_(readers) {}
  void query(proto::statement statement, boost::asio::any_io_executor reply_to, std::size_t home,
             read_handler reply) override;
  void write(proto::write_request request, boost::asio::any_io_executor reply_to, write_handler reply) override;
  void pipeline(std::optional<hrana::stream_ref> baton, bool read_only,
                std::vector<proto::hrana::decoded_request> requests, boost::asio::any_io_executor reply_to,
                std::size_t home, pipeline_handler done) override;
  bool available() const override { return follower_->has_copy(); }
  std::string unavailable_reason() const override { return "no copy of the primary yet"; }
  std::size_t open_streams() const override { return 0; }
  void append_metrics(std::string& out) const override;
  void interrupt() override;
  void close(boost::asio::any_io_executor done_on, std::function<void()> done) override;

 private:
  std::shared_ptr<follower> follower_;
  std::unique_ptr<reader_pool>& readers_;
};

}  // namespace monolite::actors
