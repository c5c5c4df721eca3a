// HTTP request counters (lock-free) and the Prometheus text rendering of all server metrics.
#pragma once
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/reader_pool.hpp"
#include "actors/writer_actor.hpp"
#include "common/histogram.hpp"

namespace monolite::server {

// Requests answered, by route and status, and how long each route took to answer (from the
// request read to its response ready to write).
class http_metrics {
 public:
  void record(std::string_view path, unsigned status, std::chrono::steady_clock::duration took);
  void append_prometheus(std::string& out) const;

 private:
  static constexpr std::array<std::string_view, 10> paths = {
      "/sql/query", "/sql/execute", "/sql/batch", "/v2/pipeline",  "/v3/pipeline",
      "/healthz",   "/readyz",      "/metrics",   "/admin/status", "other"};
  static constexpr std::array<unsigned, 13> statuses = {200, 400, 401, 403, 404, 405, 409,
                                                        413, 415, 431, 500, 503, 504};
  std::array<std::array<std::atomic<std::uint64_t>, statuses.size() + 1>, paths.size()> counts_{};
  std::array<histogram, paths.size()> durations_;  // microseconds
};

struct gauge_snapshot {
  actors::writer_stats writer;
  std::uint64_t readers_rejected = 0;
  std::size_t open_connections = 0;
  std::size_t hrana_streams = 0;
  std::uint64_t wal_bytes = 0;              // the live -wal file
  std::uint64_t database_bytes = 0;         // the main database file
  std::size_t read_snapshots = 0;           // held now (statements running, read transactions)
  double read_snapshot_oldest_seconds = 0;  // age of the oldest of them (0: none)
  actors::read_stats reads{};
};

// A label value as the Prometheus text format wants it between its quotes: backslash, double quote
// and newline escaped (\\, \", \n); everything else as is.
std::string escape_label_value(std::string_view value);

// `name`_bucket{labels,le=...} (cumulative), `name`_sum and `name`_count; `labels` is empty or
// ends with a comma (`route="/sql/query",`). No HELP/TYPE lines.
void append_histogram(std::string& out, std::string_view name, std::string_view labels, const histogram_counts& counts,
                      const histogram_bounds& bounds);

std::string render_prometheus(const http_metrics& http, const gauge_snapshot& gauges);

}  // namespace monolite::server
