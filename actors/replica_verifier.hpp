// replica_verifier — `serve --verify-interval`: every interval, restores each replica's latest
// state into a scratch file next to the database and compares it with the live database at the
// same WAL position (replica::verify_live), one replica after the other, never two at a time.
// Executor: a thread of its own (it blocks on downloads, SQLite and digests; never on the
// writer's or the readers' strands). Interval: from the end of one round to the start of the next.
// Results: a log line each (info when the same, error naming what differs or why it failed) and
// per-replica statistics for /metrics. A failed verification never stops serving.
// Stop: request_stop() asks the restore to stop between objects; join() waits for the thread.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "proto/error.hpp"
#include "replica/format/seal.hpp"
#include "replica/object_store.hpp"
#include "replica/verify.hpp"

namespace monolite::actors {

struct verify_stats {
  std::string replica;               // URL without secrets (the label of the replica metrics)
  std::int64_t last_success_ms = 0;  // Unix time of the last verification that matched; 0: none
  std::uint64_t failures = 0;        // mismatches and verifications that could not finish
  double last_duration_seconds = 0;  // of the last run, whatever its outcome
};

struct verify_settings {
  std::string db_path;
  std::chrono::milliseconds interval{0};
  std::chrono::milliseconds catch_up_wait{10000};  // the replica may take this long to reach the live position
  unsigned parallelism = 2;                        // downloads in flight: keeps the check light
};

// The scratch path a verification of `db_path` restores into.
std::string verify_scratch_path(const std::string& db_path);

// What one run did to the statistics: a verification that matched sets the success time, one that
// differed or failed counts a failure; both set the duration.
void record_verification(verify_stats& stats,
                         const boost::system::result<replica::verify_report, replica::restore_error>& r,
                         std::chrono::duration<double> took, std::int64_t now_ms);

class replica_verifier {
 public:
  static proto::result<std::unique_ptr<replica_verifier>> open(const std::vector<std::string>& urls,
                                                               verify_settings settings,
                                                               const replica::seal::keyring& keys = {});
  ~replica_verifier();  // stops and joins
  replica_verifier(const replica_verifier&) = delete;
  replica_verifier& operator=(const replica_verifier&) = delete;

  void start();
  void request_stop();  // does not wait
  bool running() const;
  void join();
  std::vector<verify_stats> stats() const;

 private:
  replica_verifier(std::vector<std::shared_ptr<replica::object_store>> stores, verify_settings settings);
  void run(std::stop_token stop);
  void verify_one(std::size_t i, const std::stop_token& stop);

  std::vector<std::shared_ptr<replica::object_store>> stores_;
  verify_settings settings_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  std::vector<verify_stats> stats_;  // guarded by mutex_
  std::atomic<bool> running_{false};
  std::jthread thread_;
};

}  // namespace monolite::actors
