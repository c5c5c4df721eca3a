// HTTP request counters (lock-free) and the Prometheus text rendering of all server metrics.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "actors/writer_actor.hpp"

namespace monolite::server {

class http_metrics {
 public:
  void record(std::string_view path, unsigned status);
  void append_prometheus(std::string& out) const;

 private:
  static constexpr std::array<std::string_view, 7> paths = {"/sql/query", "/sql/execute", "/sql/batch", "/healthz",
                                                            "/readyz",    "/metrics",     "other"};
  static constexpr std::array<unsigned, 13> statuses = {200, 400, 401, 403, 404, 405, 409,
                                                        413, 415, 431, 500, 503, 504};
  std::array<std::array<std::atomic<std::uint64_t>, statuses.size() + 1>, paths.size()> counts_{};
};

struct gauge_snapshot {
  actors::writer_stats writer;
  std::uint64_t readers_rejected = 0;
  std::size_t open_connections = 0;
  std::size_t hrana_streams = 0;
  std::uint64_t wal_bytes = 0;              // the live -wal file
  std::size_t read_snapshots = 0;           // held now (statements running, read transactions)
  double read_snapshot_oldest_seconds = 0;  // age of the oldest of them (0: none)
};

// A label value as the Prometheus text format wants it between its quotes: backslash, double quote
// and newline escaped (\\, \", \n); everything else as is.
std::string escape_label_value(std::string_view value);

std::string render_prometheus(const http_metrics& http, const gauge_snapshot& gauges);

}  // namespace monolite::server
