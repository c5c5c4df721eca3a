#include "server/metrics.hpp"

#include <algorithm>

namespace monolite::server {
namespace {

void append_metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                   std::string_view value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
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

}  // namespace

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

void http_metrics::record(std::string_view path, unsigned status) {
  const auto p = static_cast<std::size_t>(std::find(paths.begin(), paths.end() - 1, path) - paths.begin());
  const auto s = static_cast<std::size_t>(std::find(statuses.begin(), statuses.end(), status) - statuses.begin());
  counts_[p][s].fetch_add(1, std::memory_order_relaxed);
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
  append_metric(out, "monolite_read_snapshots", "gauge",
                "Read snapshots held now: reads running and Hrana read transactions open.", g.read_snapshots);
  append_metric(out, "monolite_read_snapshot_oldest_seconds", "gauge",
                "Age of the oldest read snapshot held now; the WAL cannot be checkpointed past it (0: none).",
                g.read_snapshot_oldest_seconds);
  return out;
}

}  // namespace monolite::server
