#include "server/status_windows.hpp"

#include <algorithm>

namespace monolite::server {

void sample_ring::push(const status_sample& sample) {
  if (samples_.size() < capacity_) {
    samples_.push_back(sample);
    return;
  }
  samples_[next_] = sample;
  next_ = (next_ + 1) % capacity_;
}

const status_sample& sample_ring::nth_newest(std::size_t n) const {
  const std::size_t newest = samples_.size() < capacity_ ? samples_.size() - 1 : (next_ + capacity_ - 1) % capacity_;
  return samples_[(newest + samples_.size() - n) % samples_.size()];
}

window_stats between(const status_sample& from, const status_sample& to) {
  window_stats out;
  out.seconds = to.at_seconds - from.at_seconds;
  out.database_bytes = to.database_bytes;
  out.wal_bytes = to.wal_bytes;
  out.long_reads = to.long_reads - from.long_reads;
  out.checkpoints_incomplete = to.checkpoints_incomplete - from.checkpoints_incomplete;
  const auto commits = to.commit_durations - from.commit_durations;
  out.commit_p50_seconds = quantile(commits, latency_bounds, 0.5);
  out.commit_p99_seconds = quantile(commits, latency_bounds, 0.99);
  out.read_p99_seconds = quantile(to.read_durations - from.read_durations, latency_bounds, 0.99);
  if (out.seconds <= 0) return out;
  out.write_statements_per_second = static_cast<double>(to.write_statements - from.write_statements) / out.seconds;
  out.commits_per_second = static_cast<double>(to.commits - from.commits) / out.seconds;
  const double busy = static_cast<double>(to.busy_microseconds - from.busy_microseconds) * 1e-6;
  out.writer_busy_fraction = std::min(1.0, busy / out.seconds);
  return out;
}

window_stats sample_ring::window_until(const status_sample& newest, double seconds) const {
  const status_sample* start = &newest;
  std::uint64_t peak_connections = newest.connections, peak_clients = newest.client_addresses;
  for (std::size_t n = 0; n < samples_.size(); ++n) {
    start = &nth_newest(n);
    // The sample the window starts at only marks the start; its gauges are from before it.
    if (newest.at_seconds - start->at_seconds >= seconds) break;
    peak_connections = std::max(peak_connections, start->connections);
    peak_clients = std::max(peak_clients, start->client_addresses);
  }
  auto out = between(*start, newest);
  out.peak_connections = peak_connections;
  out.peak_client_addresses = peak_clients;
  return out;
}

status_book::status_book()
    : fine_(static_cast<std::size_t>(fine_span_seconds) + 1),
      coarse_(static_cast<std::size_t>(24 * 3600 / coarse_step_seconds) + 1) {}

void status_book::record(const status_sample& sample) {
  std::lock_guard lock(mutex_);
  fine_.push(sample);
  peak_connections_ = std::max(peak_connections_, sample.connections);
  peak_client_addresses_ = std::max(peak_client_addresses_, sample.client_addresses);
  if (last_coarse_at_ >= 0 && sample.at_seconds - last_coarse_at_ < coarse_step_seconds) return;
  auto coarse = sample;
  coarse.connections = peak_connections_;
  coarse.client_addresses = peak_client_addresses_;
  coarse_.push(coarse);
  last_coarse_at_ = sample.at_seconds;
  peak_connections_ = peak_client_addresses_ = 0;
}

window_stats status_book::window(double seconds) const {
  std::lock_guard lock(mutex_);
  if (fine_.size() == 0) return {};
  // Long windows start at a minute sample but end at the newest second.
  return (seconds <= fine_span_seconds ? fine_ : coarse_).window_until(fine_.newest(), seconds);
}

}  // namespace monolite::server
