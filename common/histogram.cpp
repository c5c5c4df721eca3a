#include "common/histogram.hpp"

#include <algorithm>

namespace monolite {

const histogram_bounds latency_bounds{{100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000,
                                       500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000},
                                      1e6};
const histogram_bounds group_size_bounds{{1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64, 128, 256, 512, 1024, 2048}, 1};

std::uint64_t histogram_counts::count() const {
  std::uint64_t total = 0;
  for (const auto n : buckets)
    total += n;
  return total;
}

histogram_counts histogram_counts::operator-(const histogram_counts& earlier) const {
  histogram_counts out;
  for (std::size_t i = 0; i < buckets.size(); ++i)
    out.buckets[i] = buckets[i] - earlier.buckets[i];
  out.sum = sum - earlier.sum;
  return out;
}

histogram_counts& histogram_counts::operator+=(const histogram_counts& more) {
  for (std::size_t i = 0; i < buckets.size(); ++i)
    buckets[i] += more.buckets[i];
  sum += more.sum;
  return *this;
}

double quantile(const histogram_counts& counts, const histogram_bounds& bounds, double q) {
  const auto total = counts.count();
  if (total == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  double below = 0;
  for (std::size_t i = 0; i < bounds.upper.size(); ++i) {
    const auto in_bucket = static_cast<double>(counts.buckets[i]);
    if (in_bucket > 0 && below + in_bucket >= rank) {
      const double lower = i == 0 ? 0.0 : static_cast<double>(bounds.upper[i - 1]);
      const double upper = static_cast<double>(bounds.upper[i]);
      return (lower + (upper - lower) * (rank - below) / in_bucket) / bounds.units_per_shown;
    }
    below += in_bucket;
  }
  return static_cast<double>(bounds.upper.back()) / bounds.units_per_shown;
}

void histogram::observe(std::uint64_t value) {
  const auto& upper = bounds_->upper;
  const auto bucket = static_cast<std::size_t>(std::lower_bound(upper.begin(), upper.end(), value) - upper.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram_counts histogram::counts() const {
  histogram_counts out;
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    out.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  out.sum = sum_.load(std::memory_order_relaxed);
  return out;
}

}  // namespace monolite
