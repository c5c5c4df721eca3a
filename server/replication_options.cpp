// `serve`'s replication flags, parsed and checked (exit 2 naming the flag).
#include <charconv>

#include "server/config.hpp"

namespace monolite::cli {

usage_result<std::chrono::milliseconds> parse_duration(const std::string& text, const std::string& flag) {
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  const std::string unit(end, text.data() + text.size());
  double scale = -1;
  if (unit.empty() || unit == "s") scale = 1000;
  if (unit == "ms") scale = 1;
  if (unit == "m") scale = 60e3;
  if (unit == "h") scale = 3600e3;
  if (unit == "d") scale = 86400e3;
  const double ms = number * scale;
  if (ec != std::errc() || scale < 0 || ms < 1 || ms > 3650 * 86400e3)
    return usage_error{"--" + flag + ": '" + text + "' is not a duration such as 500ms, 10s, 30m, 72h or 7d"};
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    std::size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j]))) ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

namespace {
usage_result<bool> parse_switch(const option_values& v, const std::string& name) {
  const auto& text = v.at(name);
  if (text != "true" && text != "false") return usage_error{"--" + name + ": '" + text + "' must be true or false"};
  return text == "true";
}
}  // namespace

usage_result<void> parse_replication(const option_values& v, serve_settings& out) {
  out.replicas = split_list(v.at("replica"));
  for (const auto& url : out.replicas)
    if (url.rfind("file://", 0) != 0 && url.rfind("s3://", 0) != 0)
      return usage_error{"--replica: '" + url + "' must start with file:// or s3://"};
  auto restore = parse_switch(v, "restore-if-missing");
  auto sync = parse_switch(v, "replica-sync");
  if (!restore) return restore.error();
  if (!sync) return sync.error();
  out.restore_if_missing = *restore, out.replica_sync = *sync;
  if ((out.restore_if_missing || out.replica_sync) && out.replicas.empty())
    return usage_error{std::string(out.replica_sync ? "--replica-sync" : "--restore-if-missing") + " needs a --replica"};
  const std::pair<const char*, std::chrono::milliseconds*> durations[] = {
      {"replica-interval", &out.replica_interval}, {"replica-sync-timeout", &out.replica_sync_timeout},
      {"snapshot-interval", &out.snapshot_interval}, {"retention", &out.retention},
      {"retention-check", &out.retention_check}};
  for (const auto& [name, field] : durations) {
    auto parsed = parse_duration(v.at(name), name);
    if (!parsed) return parsed.error();
    *field = *parsed;
  }
  const auto& backlog = v.at("replica-max-backlog");
  auto [end, ec] = std::from_chars(backlog.data(), backlog.data() + backlog.size(), out.replica_max_backlog);
  if (ec != std::errc() || end != backlog.data() + backlog.size() || out.replica_max_backlog < (1u << 20))
    return usage_error{"--replica-max-backlog: '" + backlog + "' must be a number of bytes ≥ 1048576"};
  return {};
}

}  // namespace monolite::cli
