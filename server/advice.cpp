#include "server/advice.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace monolite::server {

std::string_view state_name(verdict_state state) {
  switch (state) {
    case verdict_state::ok: return "ok";
    case verdict_state::watch: return "watch";
    case verdict_state::plan_the_move: return "plan the move";
  }
  return "ok";
}

verdict judge(std::string name, double value, double threshold) {
  verdict out{std::move(name), value, threshold, 1, verdict_state::ok};
  if (threshold <= 0) return out;
  out.headroom = 1 - value / threshold;
  if (value >= threshold)
    out.state = verdict_state::plan_the_move;
  else if (value >= watch_fraction * threshold)
    out.state = verdict_state::watch;
  return out;
}

std::vector<verdict> verdicts(const window_stats& w, const advice_thresholds& t) {
  auto seconds = [](std::chrono::milliseconds d) { return std::chrono::duration<double>(d).count(); };
  return {
      judge("write_statements_per_second", w.write_statements_per_second, t.write_statements_per_second),
      judge("commits_per_second", w.commits_per_second, t.commits_per_second),
      judge("commit_p99_seconds", w.commit_p99_seconds, seconds(t.commit_p99)),
      judge("read_p99_seconds", w.read_p99_seconds, seconds(t.read_p99)),
      judge("database_bytes", static_cast<double>(w.database_bytes), static_cast<double>(t.database_bytes)),
      judge("client_addresses", static_cast<double>(w.peak_client_addresses), static_cast<double>(t.client_addresses))};
}

boost::json::object window_json(const window_stats& w) {
  return {{"seconds", w.seconds},
          {"write_statements_per_second", w.write_statements_per_second},
          {"commits_per_second", w.commits_per_second},
          {"writer_busy_fraction", w.writer_busy_fraction},
          {"commit_p50_seconds", w.commit_p50_seconds},
          {"commit_p99_seconds", w.commit_p99_seconds},
          {"read_p99_seconds", w.read_p99_seconds},
          {"long_reads", w.long_reads},
          {"checkpoints_incomplete", w.checkpoints_incomplete},
          {"database_bytes", w.database_bytes},
          {"wal_bytes", w.wal_bytes},
          {"peak_connections", w.peak_connections},
          {"peak_client_addresses", w.peak_client_addresses}};
}

boost::json::object status_json(const status_book& book, const advice_thresholds& thresholds) {
  constexpr std::array<std::pair<const char*, double>, 4> spans = {
      {{"1m", 60}, {"15m", 15 * 60}, {"1h", 3600}, {"24h", 24 * 3600}}};
  boost::json::object windows;
  for (const auto& [name, seconds] : spans)
    windows[name] = window_json(book.window(seconds));
  const double window_seconds = std::chrono::duration<double>(thresholds.window).count();
  boost::json::array judged;
  auto worst = verdict_state::ok;
  for (const auto& v : verdicts(book.window(window_seconds), thresholds)) {
    worst = std::max(worst, v.state);
    judged.push_back(boost::json::object{{"name", v.name},
                                         {"value", v.value},
                                         {"threshold", v.threshold},
                                         {"headroom", v.headroom},
                                         {"state", state_name(v.state)},
                                         {"window_seconds", window_seconds}});
  }
  return {{"windows", std::move(windows)},
          {"verdict_window_seconds", window_seconds},
          {"verdicts", std::move(judged)},
          {"state", state_name(worst)}};
}

}  // namespace monolite::server
