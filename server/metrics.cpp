#include "server/metrics.hpp"

#include <algorithm>
#include <charconv>

namespace monolite::server {
namespace {

void append_help(std::string& out, std::string_view name, std::string_view type, std::string_view help);

void append_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                   std::string_view value) {
  append_help(out, name, type, help);
  out.append(name).append(" ").append(value).append("\n");
}

void append_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                   std::uint64_t value) {
  append_metric(out, name, type, help, std::to_string(value));
}

void append_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                   double value) {
  append_metric(out, name, type, help, std::to_string(value));
}

void append_help(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// The shortest fixed-point text that reads back as the same double: 0.0001, 2.5, 1024.
std::string number_text(double value) {
  char buffer[400];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  return ec == std::errc() ? std::string(buffer, end) : std::to_string(value);
}

void append_writer_metrics(std::string& out, const actors::writer_stats& w) {
  append_metric(out, "monolite_writer_write_statements_total", "counter", "Statements of the write requests committed.",
                w.write_statements);
  append_metric(out, "monolite_writer_busy_seconds_total", "counter",
                "Time spent inside group-commit transactions; its rate is the writer's saturation (0 to 1).",
                static_cast<double>(w.busy_microseconds) * 1e-6);
  append_metric(out, "monolite_checkpoints_incomplete_total", "counter",
                "Checkpoints that left frames in the WAL because readers still needed them (or were busy).",
                w.checkpoints_incomplete);
  append_help(out, "monolite_writer_commit_duration_seconds", "histogram",
              "Group-commit transactions, BEGIN to COMMIT returned.");
  append_histogram(out, "monolite_writer_commit_duration_seconds", "", w.commit_durations, latency_bounds);
  append_help(out, "monolite_writer_group_size", "histogram", "Write requests per committed group commit.");
  append_histogram(out, "monolite_writer_group_size", "", w.group_sizes, group_size_bounds);
}

void append_read_metrics(std::string& out, const actors::read_stats& reads) {
  append_help(out, "monolite_read_duration_seconds", "histogram", "Read statements (/sql/query), run time.");
  append_histogram(out, "monolite_read_duration_seconds", "", reads.durations, latency_bounds);
  append_metric(out, "monolite_long_reads_total", "counter",
                "Read statements that ran --long-read-threshold or longer.", reads.long_reads);
}

}  // namespace

void append_histogram(std::string& out, std::string_view name, std::string_view labels, const histogram_counts& counts,
                      const histogram_bounds& bounds) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= bounds.upper.size(); ++i) {
    cumulative += counts.buckets[i];
    const std::string le =
        i < bounds.upper.size() ? number_text(static_cast<double>(bounds.upper[i]) / bounds.units_per_shown) : "+Inf";
    out.append(name).append("_bucket{").append(labels).append("le=\"").append(le).append("\"} ");
    out.append(std::to_string(cumulative)).append("\n");
  }
  std::string_view bare = labels.empty() ? labels : labels.substr(0, labels.size() - 1);
  auto braces = [&] { return bare.empty() ? std::string() : "{" + std::string(bare) + "}"; };
  out.append(name).append("_sum").append(braces()).append(" ");
  out.append(number_text(static_cast<double>(counts.sum) / bounds.units_per_shown)).append("\n");
  out.append(name).append("_count").append(braces()).append(" ").append(std::to_string(cumulative)).append("\n");
}

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (const char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void http_metrics::record(std::string_view path, unsigned status, std::chrono::steady_clock::duration took) {
  const auto p = static_cast<std::size_t>(std::find(paths.begin(), paths.end() - 1, path) - paths.begin());
  const auto s = static_cast<std::size_t>(std::find(statuses.begin(), statuses.end(), status) - statuses.begin());
  counts_[p][s].fetch_add(1, std::memory_order_relaxed);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
  durations_[p].observe(static_cast<std::uint64_t>(std::max<std::int64_t>(us, 0)));
}

void http_metrics::append_prometheus(std::string& out) const {
  out += "# HELP monolite_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE monolite_http_requests_total counter\n";
  for (std::size_t p = 0; p < paths.size(); ++p) {
    for (std::size_t s = 0; s <= statuses.size(); ++s) {
      const auto n = counts_[p][s].load(std::memory_order_relaxed);
      if (n == 0) continue;
      const std::string status = s < statuses.size() ? std::to_string(statuses[s]) : "other";
      out.append("monolite_http_requests_total{route=\"").append(escape_label_value(paths[p]));
      out.append("\",status=\"");
      out.append(status).append("\"} ").append(std::to_string(n)).append("\n");
    }
  }
  append_help(out, "monolite_http_request_duration_seconds", "histogram",
              "Time from a request read to its response ready, by route.");
  for (std::size_t p = 0; p < paths.size(); ++p) {
    const auto counts = durations_[p].counts();
    if (counts.count() == 0) continue;
    const std::string labels = "route=\"" + escape_label_value(paths[p]) + "\",";
    append_histogram(out, "monolite_http_request_duration_seconds", labels, counts, latency_bounds);
  }
}

std::string render_prometheus(const http_metrics& http, const gauge_snapshot& g) {
  std::string out;
  http.append_prometheus(out);
  append_metric(out, "monolite_writer_commits_total", "counter", "Group-commit transactions committed.",
                g.writer.commits);
  append_metric(out, "monolite_writer_requests_total", "counter", "Write requests answered by the writer.",
                g.writer.requests);
  append_metric(out, "monolite_writer_rejected_total", "counter",
                "Write requests refused because the writer queue was full.", g.writer.rejected_full);
  append_metric(out, "monolite_writer_checkpoints_total", "counter", "WAL checkpoints run by the writer.",
                g.writer.checkpoints);
  append_metric(out, "monolite_writer_queue_depth", "gauge", "Write requests in flight.", g.writer.queue_depth);
  append_metric(out, "monolite_read_only", "gauge", "1 while writes are refused (POST /admin/read-only, --read-only).",
                std::uint64_t{g.writer.read_only});
  append_metric(out, "monolite_readers_rejected_total", "counter", "Reads refused because every reader was full.",
                g.readers_rejected);
  append_metric(out, "monolite_http_open_connections", "gauge", "Open HTTP connections.", g.open_connections);
  append_metric(out, "monolite_hrana_open_streams", "gauge", "Hrana streams open (not yet closed or expired).",
                g.hrana_streams);
  append_metric(out, "monolite_wal_bytes", "gauge", "Size of the live WAL file (-wal) in bytes.", g.wal_bytes);
  append_metric(out, "monolite_database_bytes", "gauge", "Size of the main database file in bytes.", g.database_bytes);
  append_metric(out, "monolite_read_snapshots", "gauge",
                "Read snapshots held now: reads running and Hrana read transactions open.", g.read_snapshots);
  append_metric(out, "monolite_read_snapshot_oldest_seconds", "gauge",
                "Age of the oldest read snapshot held now; the WAL cannot be checkpointed past it (0: none).",
                g.read_snapshot_oldest_seconds);
  append_writer_metrics(out, g.writer);
  append_read_metrics(out, g.reads);
  return out;
}

}  // namespace monolite::server
