// Fixed-bucket histograms for /metrics and /admin/status. Recording is lock-free: one relaxed
// increment of a bucket and one of the sum. Reading gives plain counts that subtract (a window
// is "now minus then") and give quantiles, as Prometheus' histogram_quantile() estimates them.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>

namespace monolite {

inline constexpr std::size_t histogram_bounds_count = 16;  // finite upper bounds; one more bucket: +Inf

// Inclusive upper bounds in the histogram's integer units, and how many units make one shown unit
// (1e6: microseconds shown as seconds; 1: counted things).
struct histogram_bounds {
  std::array<std::uint64_t, histogram_bounds_count> upper;
  double units_per_shown;
};
extern const histogram_bounds latency_bounds;     // microseconds, 100 µs .. 10 s
extern const histogram_bounds group_size_bounds;  // requests per group commit, 1 .. 2048

// One histogram's counts at one moment, or between two moments.
struct histogram_counts {
  std::array<std::uint64_t, histogram_bounds_count + 1> buckets{};  // per bucket, not cumulative
  std::uint64_t sum = 0;                                            // in units
  std::uint64_t count() const;
  histogram_counts operator-(const histogram_counts& earlier) const;
  histogram_counts& operator+=(const histogram_counts& more);
};

// The value under which a fraction `q` (0..1) of the observations fall, in shown units, by linear
// interpolation inside its bucket; past the last finite bound it is that bound. 0 when empty.
double quantile(const histogram_counts& counts, const histogram_bounds& bounds, double q);

class histogram {
 public:
  histogram() : bounds_(&latency_bounds) {}
  explicit histogram(const histogram_bounds& bounds) : bounds_(&bounds) {}
  void observe(std::uint64_t value);  // thread-safe
  histogram_counts counts() const;    // thread-safe; each bucket read on its own (not one atomic moment)
  const histogram_bounds& bounds() const { return *bounds_; }

 private:
  const histogram_bounds* bounds_;
  std::array<std::atomic<std::uint64_t>, histogram_bounds_count + 1> buckets_{};
  std::atomic<std::uint64_t> sum_{0};
};

}  // namespace monolite
