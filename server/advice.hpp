// The migration trigger: each threshold of "one SQLite box is no longer enough" judged against
// the numbers of a window (server/status_windows.hpp), and the JSON of GET /admin/status.
// Rule: a value at or above its threshold is "plan the move", at or above 70 % of it "watch",
// below that "ok"; headroom = 1 - value / threshold (negative once past it).
#pragma once
#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "server/status_windows.hpp"

namespace monolite::server {

struct advice_thresholds {
  double write_statements_per_second = 5000;
  double commits_per_second = 50;
  std::chrono::milliseconds commit_p99{50};
  std::chrono::milliseconds read_p99{250};
  std::uint64_t database_bytes = std::uint64_t{10} << 30;
  std::uint64_t client_addresses = 4;
  std::chrono::milliseconds window{std::chrono::minutes(15)};  // "sustained": what the rates are judged over
};

inline constexpr double watch_fraction = 0.7;

enum class verdict_state { ok, watch, plan_the_move };
std::string_view state_name(verdict_state state);

struct verdict {
  std::string name;
  double value = 0;
  double threshold = 0;
  double headroom = 1;
  verdict_state state = verdict_state::ok;
};

verdict judge(std::string name, double value, double threshold);

// One verdict per threshold, all over `sustained` (the --advise-window window); the database
// size is its size at the newest sample.
std::vector<verdict> verdicts(const window_stats& sustained, const advice_thresholds& thresholds);

boost::json::object window_json(const window_stats& window);

// {"windows": {"1m": …, "15m": …, "1h": …, "24h": …}, "verdict_window_seconds": …, "verdicts": […],
//  "state": the worst verdict's state}
boost::json::object status_json(const status_book& book, const advice_thresholds& thresholds);

}  // namespace monolite::server
