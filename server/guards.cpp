#include "server/guards.hpp"

#include <boost/asio/post.hpp>
#include <filesystem>

#include "common/log.hpp"
#include "server/server_context.hpp"

namespace monolite::server {
namespace asio = boost::asio;

// 0 without a SQLite file (the PostgreSQL engine).
std::uint64_t wal_file_bytes(const std::string& db_path) {
  if (db_path.empty()) return 0;
  std::error_code ec;
  const auto size = std::filesystem::file_size(db_path + "-wal", ec);
  return ec ? 0 : static_cast<std::uint64_t>(size);
}

std::uint64_t database_file_bytes(const std::string& db_path) {
  if (db_path.empty()) return 0;
  std::error_code ec;
  const auto size = std::filesystem::file_size(db_path, ec);
  return ec ? 0 : static_cast<std::uint64_t>(size);
}

status_sample take_status_sample(const server_context& ctx, const wal_pressure& seen, double at_seconds) {
  status_sample out;
  out.at_seconds = at_seconds;
  if (ctx.writer) {
    const auto w = ctx.writer->stats();
    out.write_statements = w.write_statements, out.commits = w.commits, out.busy_microseconds = w.busy_microseconds;
    out.checkpoints_incomplete = w.checkpoints_incomplete;
    out.commit_durations = w.commit_durations;
  }
  if (ctx.readers) {
    const auto r = ctx.readers->stats();
    out.long_reads = r.long_reads;
    out.read_durations = r.durations;
  }
  out.database_bytes = database_file_bytes(ctx.settings.db_path);
  out.wal_bytes = seen.wal_bytes;
  out.connections = ctx.sessions.size();
  out.client_addresses = ctx.sessions.distinct_peers();
  return out;
}

wal_pressure observe_wal_pressure(const server_context& ctx) {
  wal_pressure out;
  out.wal_bytes = wal_file_bytes(ctx.settings.db_path);
  if (ctx.readers) out.snapshots.add(ctx.readers->snapshots());
  if (ctx.hrana) out.snapshots.add(ctx.hrana->snapshots());
  return out;
}

threshold_alarm::change threshold_alarm::update(double value) {
  if (threshold_ <= 0) return change::none;
  const bool over = value > threshold_;
  if (over == raised_) return change::none;
  raised_ = over;
  return over ? change::raised : change::cleared;
}

guard_watch::guard_watch(server_context& ctx, asio::any_io_executor executor)
    : ctx_(ctx),
      timer_(std::move(executor)),
      snapshot_age_(std::chrono::duration<double>(ctx.settings.read_snapshot_warning).count()),
      wal_size_(static_cast<double>(ctx.settings.wal_size_warning)) {}

void guard_watch::start() {
  asio::post(timer_.get_executor(), [self = shared_from_this()] { self->schedule(); });
}

void guard_watch::stop() {
  asio::post(timer_.get_executor(), [self = shared_from_this()] {
    self->stopped_ = true;
    self->timer_.cancel();
  });
}

void guard_watch::schedule() {
  if (stopped_) return;
  timer_.expires_after(period);
  timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->check();
  });
}

namespace {

void report(threshold_alarm::change change, std::string_view over, std::string_view back,
            const boost::json::object& fields) {
  if (change == threshold_alarm::change::raised) log::warn(over, fields);
  if (change == threshold_alarm::change::cleared) log::info(back, fields);
}

}  // namespace

void guard_watch::check() {
  const auto seen = observe_wal_pressure(ctx_);
  const double since_start = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  ctx_.status.record(take_status_sample(ctx_, seen, since_start));
  const double oldest = seen.snapshots.oldest_seconds(actors::snapshot_clock::now());
  boost::json::object fields{
      {"oldest_seconds", oldest}, {"read_snapshots", seen.snapshots.held}, {"wal_bytes", seen.wal_bytes}};
  fields["threshold_seconds"] = std::chrono::duration<double>(ctx_.settings.read_snapshot_warning).count();
  report(snapshot_age_.update(oldest),
         "a read snapshot is older than --read-snapshot-warning; the WAL cannot be checkpointed past it",
         "no read snapshot is older than --read-snapshot-warning any more", fields);
  fields.erase("threshold_seconds");
  fields["threshold_bytes"] = ctx_.settings.wal_size_warning;
  report(wal_size_.update(static_cast<double>(seen.wal_bytes)), "the WAL is larger than --wal-size-warning",
         "the WAL is no larger than --wal-size-warning any more", fields);
  schedule();
}

}  // namespace monolite::server
