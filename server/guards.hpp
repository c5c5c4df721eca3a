// The guards: what keeps the WAL from shrinking, watched on a timer. A read snapshot held long
// stops checkpoints past it, and the WAL then grows with every write; both are exposed in /metrics
// and logged once when they pass --read-snapshot-warning and --wal-size-warning. The same timer
// samples the counters of /admin/status (server/status_windows.hpp).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/read_snapshots.hpp"
#include "server/status_windows.hpp"

namespace monolite::server {

struct server_context;

// What the guards watch, read on demand (by each check and each /metrics scrape).
struct wal_pressure {
  std::uint64_t wal_bytes = 0;
  actors::read_snapshots snapshots;
};
wal_pressure observe_wal_pressure(const server_context& ctx);
// The size of `db_path`-wal; 0 when there is none.
std::uint64_t wal_file_bytes(const std::string& db_path);
// The size of the main database file; 0 when there is none.
std::uint64_t database_file_bytes(const std::string& db_path);

// The counters and gauges of /admin/status now; `at_seconds` on the caller's clock.
status_sample take_status_sample(const server_context& ctx, const wal_pressure& seen, double at_seconds);

// Says `raised` once when a value passes its threshold (0: never), and `cleared` once when it is
// back at or under it; nothing in between, so a value that stays high is reported once.
class threshold_alarm {
 public:
  enum class change { none, raised, cleared };
  explicit threshold_alarm(double threshold) : threshold_(threshold) {}
  change update(double value);

 private:
  double threshold_;
  bool raised_ = false;
};

// Checks the guards every second on `executor` (serial: the server's first io thread) until stop().
class guard_watch : public std::enable_shared_from_this<guard_watch> {
 public:
  static constexpr std::chrono::seconds period{1};

  guard_watch(server_context& ctx, boost::asio::any_io_executor executor);
  void start();
  void stop();  // thread-safe

 private:
  void schedule();
  void check();

  server_context& ctx_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  threshold_alarm snapshot_age_;
  threshold_alarm wal_size_;
  bool stopped_ = false;  // on the executor
};

}  // namespace monolite::server
