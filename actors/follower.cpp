#include "actors/follower.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/log.hpp"

namespace monolite::actors {
namespace asio = boost::asio;
namespace wal_log = proto::wal_log;
using namespace std::chrono_literals;

namespace {

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

// One read waiting for a frame: answered once, by the loop (applied) or by its timer (too late).
struct follower::waiter {
  std::uint64_t frame;
  asio::steady_timer timer;
  std::function<void(bool)> done;
  std::atomic<bool> answered{false};
  waiter(std::uint64_t f, asio::any_io_executor ex, std::function<void(bool)> d)
      : frame(f), timer(std::move(ex)), done(std::move(d)) {}
  // Thread-safe; the timer is touched on its own executor only.
  void answer(const std::shared_ptr<waiter>& self, bool ok) {
    if (answered.exchange(true)) return;
    asio::post(timer.get_executor(), [self, ok] {
      self->timer.cancel();
      self->done(ok);
    });
  }
};

follower::follower(follower_options options, std::unique_ptr<replica::follow_applier> applier)
    : options_(std::move(options)), client_(options_.primary, options_.token), applier_(std::move(applier)) {
  if (applier_->position()) next_frame_.store(applier_->position()->next_frame, std::memory_order_release);
  last_caught_up_ns_.store(now_ns());
}

follower::~follower() { stop(); }

proto::result<std::shared_ptr<follower>> follower::open(follower_options options) {
  auto applier = replica::follow_applier::open(options.db_path, options.busy_timeout_ms);
  if (!applier) return applier.error();
  return std::shared_ptr<follower>(new follower(std::move(options), std::move(*applier)));
}

void follower::start(std::function<void()> copy_ready) {
  copy_ready_ = std::move(copy_ready);
  thread_ = std::thread([this] { run(); });
}

void follower::stop() {
  {
    std::lock_guard lock(pause_mutex_);
    stop_.store(true, std::memory_order_release);
  }
  pause_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void follower::pause(std::chrono::milliseconds delay) {
  std::unique_lock lock(pause_mutex_);
  pause_cv_.wait_for(lock, delay, [this] { return stopping(); });
}

void follower::wait_for_frame(std::uint64_t frame, std::chrono::milliseconds timeout, asio::any_io_executor executor,
                              std::function<void(bool)> done) {
  auto w = std::make_shared<waiter>(frame, std::move(executor), std::move(done));
  {
    std::lock_guard lock(waiters_mutex_);
    waiters_.push_back(w);
  }
  // Applied meanwhile (between the caller's check and the registration): answer now.
  if (applied(frame)) w->answer(w, true);
  asio::post(w->timer.get_executor(), [w, timeout] {
    w->timer.expires_after(timeout);
    w->timer.async_wait([w](boost::system::error_code ec) {
      if (!ec) w->answer(w, false);
    });
  });
}

// After each apply: the reads waiting for what is now applied go on; answered ones are dropped.
void follower::applied_now() {
  std::lock_guard lock(waiters_mutex_);
  std::erase_if(waiters_, [this](const std::shared_ptr<waiter>& w) {
    if (applied(w->frame)) w->answer(w, true);
    return w->answered.load();
  });
}

void follower::note_caught_up(bool caught_up) {
  if (caught_up) last_caught_up_ns_.store(now_ns(), std::memory_order_release);
  caught_up_.store(caught_up, std::memory_order_release);
}

follower_stats follower::stats() const {
  follower_stats s;
  const auto next = next_frame_.load(std::memory_order_acquire);
  s.has_copy = next > 0;
  s.applied_frame = next > 0 ? next - 1 : 0;
  s.primary_frame = std::max(primary_frame_.load(std::memory_order_acquire), s.applied_frame);
  s.snapshots = snapshots_.load(std::memory_order_relaxed);
  if (!caught_up_.load(std::memory_order_acquire))
    s.lag_seconds = static_cast<double>(now_ns() - last_caught_up_ns_.load(std::memory_order_acquire)) / 1e9;
  return s;
}

bool follower::apply_pages(const page_map& pages, const replica::follow_position& after, std::uint32_t size_after) {
  auto redo = replica::redo_writer::create(options_.db_path);
  proto::result<void> done = redo ? proto::result<void>{} : proto::result<void>{redo.error()};
  for (auto it = pages.begin(); done && it != pages.end(); ++it)
    done = redo->add_page(it->first, it->second);
  if (done) done = redo->finish(after, size_after);
  if (done) done = applier_->apply_redo();
  if (!done) {
    log::error("follower: cannot apply frames", {{"error", done.error().message}, {"db", options_.db_path}});
    return false;
  }
  next_frame_.store(after.next_frame, std::memory_order_release);
  applied_now();
  return true;
}

// The whole database as one batch, streamed to the redo file: pages from the highest down, all
// with the snapshot's frame number; the last (page 1) carries the size.
bool follower::take_snapshot(const std::string& log_id) {
  auto redo = replica::redo_writer::create(options_.db_path);
  if (!redo) return log::error("follower: cannot write the redo file", {{"error", redo.error().message}}), false;
  std::optional<std::uint64_t> frame_no;
  std::uint32_t size_after = 0;
  std::string bad;
  auto got = client_.snapshot(0, [&](std::string_view data) {
    auto header = wal_log::parse_frame_data(data);
    if (!header) return bad = header.error().message, false;
    if (!frame_no) frame_no = header->frame_no;
    if (header->size_after) size_after = header->size_after;
    auto added = redo->add_page(header->page_no, data.substr(wal_log::frame_header_size));
    if (!added) bad = added.error().message;
    return added && !stopping();
  });
  if (!got || !bad.empty() || !frame_no || size_after == 0) {
    log::warn("follower: snapshot failed", {{"error", !bad.empty() ? bad : !got ? got.error().message : "empty"}});
    return false;
  }
  const replica::follow_position after{log_id, *frame_no + 1};
  auto done = redo->finish(after, size_after);
  if (done) done = applier_->apply_redo();
  if (!done) return log::error("follower: cannot apply the snapshot", {{"error", done.error().message}}), false;
  snapshots_.fetch_add(1, std::memory_order_relaxed);
  next_frame_.store(after.next_frame, std::memory_order_release);
  log::info("follower: snapshot applied", {{"log_id", log_id}, {"frame", *frame_no}, {"pages", size_after}});
  applied_now();
  return true;
}

// Frames from the copy's position on, until an answer needs a new Hello (false) or the stop.
// A batch's complete transactions are applied together; a trailing partial one waits for the next.
bool follower::pull(const std::string& log_id) {
  std::uint64_t fetch = next_frame_.load(std::memory_order_acquire);
  page_map partial, complete;
  std::uint32_t size_after = 0;
  std::uint64_t complete_next = 0;
  auto idle = 10ms;
  while (!stopping()) {
    auto frames = client_.batch(fetch);
    if (!frames && frames.error().kind == replica::follow_failure::need_snapshot) {
      if (!take_snapshot(log_id)) return false;
      fetch = next_frame_.load(std::memory_order_acquire), partial.clear();
      continue;
    }
    if (!frames) return log::warn("follower: pull failed", {{"error", frames.error().message}}), false;
    for (const auto& data : *frames) {
      auto header = wal_log::parse_frame_data(data);
      if (!header || header->frame_no != fetch)
        return log::warn("follower: unexpected frame", {{"expected", fetch}}), false;
      partial[header->page_no] = data.substr(wal_log::frame_header_size);
      ++fetch;
      if (header->size_after == 0) continue;
      for (auto& [page_no, image] : partial)
        complete[page_no] = std::move(image);
      partial.clear(), size_after = header->size_after, complete_next = fetch;
      primary_frame_.store(std::max(primary_frame_.load(), header->frame_no), std::memory_order_release);
    }
    if (!complete.empty()) {
      if (!apply_pages(complete, {log_id, complete_next}, size_after)) return false;
      complete.clear();
    }
    if (!frames->empty()) {
      idle = 10ms;
      continue;
    }
    note_caught_up(partial.empty() && applied(primary_frame_.load(std::memory_order_acquire)));
    pause(idle);
    idle = std::min<std::chrono::milliseconds>(idle * 2, 200ms);
  }
  return true;
}

void follower::run() {
  auto retry = 100ms;
  while (!stopping()) {
    if (has_copy() && !copy_announced_) copy_announced_ = true, copy_ready_();
    auto hello = client_.hello();
    if (hello) {
      retry = 100ms;
      if (hello->current_replication_index) primary_frame_.store(*hello->current_replication_index);
      const auto& position = applier_->position();
      bool ready = position && position->log_id == hello->log_id && has_copy();
      if (!ready) {
        log::info("follower: taking a snapshot",
                  {{"log_id", hello->log_id}, {"had", position ? position->log_id : ""}});
        ready = take_snapshot(hello->log_id);
      }
      if (ready && !copy_announced_) copy_announced_ = true, copy_ready_();
      if (ready && pull(hello->log_id)) continue;
    } else {
      log::warn("follower: primary unreachable", {{"error", hello.error().message}, {"retry_ms", retry.count()}});
    }
    note_caught_up(false);
    pause(retry);
    retry = std::min<std::chrono::milliseconds>(retry * 2, 5000ms);
  }
}

void follower_engine::query(proto::statement statement, asio::any_io_executor reply_to, std::size_t home,
                            read_handler reply) {
  if (!readers_) {
    return asio::post(reply_to, [reply = std::move(reply)] {
      reply({proto::not_ready("the follower has no copy of the primary yet"), 0});
    });
  }
  readers_->submit(std::move(statement), std::move(reply_to), home, std::move(reply));
}

// The follow routes forward writes and Hrana to the primary: these never run here.
void follower_engine::write(proto::write_request, asio::any_io_executor reply_to, write_handler reply) {
  asio::post(reply_to, [reply = std::move(reply)] { reply({proto::read_only("a follower does not write"), 0}); });
}

void follower_engine::pipeline(std::optional<hrana::stream_ref>, bool, std::vector<proto::hrana::decoded_request>,
                               asio::any_io_executor reply_to, std::size_t, pipeline_handler done) {
  asio::post(reply_to, [done = std::move(done)] {
    done({proto::read_only("a follower forwards Hrana to its primary"), std::nullopt, {}});
  });
}

void follower_engine::append_metrics(std::string& out) const {
  const auto s = follower_->stats();
  out +=
      "# HELP monolite_follow_applied_frame The last primary frame applied to this follower's copy.\n"
      "# TYPE monolite_follow_applied_frame gauge\nmonolite_follow_applied_frame " +
      std::to_string(s.applied_frame) + "\n";
  out +=
      "# HELP monolite_follow_lag_frames Frames the primary has committed that this copy has not applied.\n"
      "# TYPE monolite_follow_lag_frames gauge\nmonolite_follow_lag_frames " +
      std::to_string(s.primary_frame - s.applied_frame) + "\n";
  out +=
      "# HELP monolite_follow_lag_seconds Seconds since the copy was last caught up with the primary.\n"
      "# TYPE monolite_follow_lag_seconds gauge\nmonolite_follow_lag_seconds " +
      std::to_string(s.lag_seconds) + "\n";
  out +=
      "# HELP monolite_follow_snapshots_total Snapshots applied since the start.\n"
      "# TYPE monolite_follow_snapshots_total counter\nmonolite_follow_snapshots_total " +
      std::to_string(s.snapshots) + "\n";
}

void follower_engine::interrupt() {
  if (readers_) readers_->interrupt();
}

void follower_engine::close(asio::any_io_executor done_on, std::function<void()> done) {
  follower_->stop();
  asio::post(done_on, std::move(done));
}

}  // namespace monolite::actors
