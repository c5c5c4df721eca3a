#include "common/log.hpp"

#include <atomic>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace monolite::log {
namespace {

std::atomic<int> minimum_level{static_cast<int>(level::info)};

constexpr std::string_view level_names[] = {"debug", "info", "warn", "error"};

std::string timestamp_now() {
  const auto now = std::chrono::system_clock::now();
  const auto seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() % 1000000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long>(micros));
  return buffer;
}

}  // namespace

void set_level(level minimum) { minimum_level.store(static_cast<int>(minimum)); }

bool parse_level(std::string_view name, level& out) {
  for (int i = 0; i < 4; ++i) {
    if (level_names[i] == name) {
      out = static_cast<level>(i);
      return true;
    }
  }
  return false;
}

void write(level lvl, std::string_view msg, boost::json::object fields) {
  if (static_cast<int>(lvl) < minimum_level.load(std::memory_order_relaxed)) return;
  boost::json::object line;
  line.reserve(fields.size() + 3);
  line["ts"] = timestamp_now();
  line["level"] = level_names[static_cast<int>(lvl)];
  line["msg"] = msg;
  for (auto& [key, value] : fields)
    line[key] = std::move(value);
  std::string text = boost::json::serialize(line);
  text += '\n';
  std::fwrite(text.data(), 1, text.size(), stderr);
}

}  // namespace monolite::log
