#include "actors/replication_log.hpp"

#include <boost/asio/post.hpp>
#include <filesystem>
#include <fstream>
#include <vector>

#include "common/log.hpp"
#include "common/strand_check.hpp"
#include "db/wal_format.hpp"
#include "proto/wal_log.hpp"

namespace monolite::actors {

namespace asio = boost::asio;

namespace {

std::string cookie_path(const replica::frame_log& log) { return log.directory() + "/schema_cookie"; }

std::uint32_t read_cookie_floor(const replica::frame_log& log) {
  std::ifstream in(cookie_path(log));
  std::uint64_t value = 0;
  if (in >> value && value <= 0xffffffffu) return static_cast<std::uint32_t>(value);
  return 0;
}

// Temp file then rename: a crash leaves the old value or the new one.
void write_cookie_floor(const replica::frame_log& log, std::uint32_t value) {
  const std::string path = cookie_path(log), temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << value << "\n";
    if (!out.flush()) return log::warn("cannot record the schema cookie", {{"path", temp}});
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) log::warn("cannot record the schema cookie", {{"path", path}, {"error", ec.message()}});
}

}  // namespace

proto::result<std::shared_ptr<replication_log>> replication_log::open(asio::any_io_executor executor,
                                                                      const std::string& db_path,
                                                                      const replication_log_options& options) {
  replica::frame_log_options log_options;
  log_options.page_size = static_cast<std::uint32_t>(proto::wal_log::page_size);
  log_options.segment_frames = options.segment_frames;
  auto log = replica::frame_log::open(db_path, log_options, replica::fingerprint_of(db_path));
  if (!log) return log.error();
  // Frame 0 is never a commit: a snapshot taken before the first one stands at frame 0.
  if (log->next_frame_no() == 0) {
    if (auto started = log->start_new_generation(1); !started) return started.error();
  }
  std::shared_ptr<replication_log> self(new replication_log(std::move(executor), std::move(*log), db_path, options));
  self->publish();
  return self;
}

replication_log::replication_log(asio::any_io_executor executor, replica::frame_log log, std::string db_path,
                                 const replication_log_options& options)
    : strand_(asio::make_strand(executor)),
      trim_timer_(strand_),
      log_(std::move(log)),
      db_path_(std::move(db_path)),
      options_(options),
      opening_(log_.opening()),
      opening_reason_(log_.opening_reason()),
      cookie_floor_(read_cookie_floor(log_)) {}

replication_log::~replication_log() = default;

void replication_log::on_commit(std::shared_ptr<const db::wal_chunk> chunk, std::uint64_t first_frame_no) {
  const std::uint64_t size = chunk->frames.size();
  if (pending_bytes_.fetch_add(size, std::memory_order_acq_rel) + size > options_.max_pending_bytes) {
    pending_bytes_.fetch_sub(size, std::memory_order_acq_rel);
    dropped_.fetch_add(1, std::memory_order_relaxed);  // the next commit that fits finds the gap
    return;
  }
  asio::post(strand_, [self = shared_from_this(), chunk = std::move(chunk), first_frame_no, size] {
    self->append(*chunk, first_frame_no);
    self->pending_bytes_.fetch_sub(size, std::memory_order_acq_rel);
  });
}

void replication_log::on_gap(std::uint64_t next_frame_no) {
  asio::post(strand_, [self = shared_from_this(), next_frame_no] { self->new_generation(next_frame_no); });
}

void replication_log::append(const db::wal_chunk& chunk, std::uint64_t first_frame_no) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (closed_) return;
  if (first_frame_no != log_.next_frame_no()) new_generation(first_frame_no);  // commits were dropped
  const auto header = db::wal::parse_header(
      std::string_view(reinterpret_cast<const char*>(chunk.wal_header.data()), chunk.wal_header.size()));
  if (!header || header->page_size != proto::wal_log::page_size) {
    if (!page_size_refused_) log::error("the replication log needs 4096-byte pages; not logging", {{"db", db_path_}});
    page_size_refused_ = true;
    return new_generation(first_frame_no + chunk.frame_count());
  }
  std::vector<replica::frame_in> frames;
  const std::size_t frame_size = header->frame_size();
  for (std::size_t at = 0; at + frame_size <= chunk.frames.size(); at += frame_size) {
    const auto* p = reinterpret_cast<const unsigned char*>(chunk.frames.data()) + at;
    const auto f = db::wal::parse_frame_header(p);
    const std::string_view page(chunk.frames.data() + at + db::wal::frame_header_size, header->page_size);
    if (f.page_number == 1) note_schema_cookie(page);
    frames.push_back({f.page_number, f.db_size_after_commit, page});
  }
  if (auto appended = log_.append(frames); !appended) {
    log::error("cannot append to the replication log", {{"error", appended.error().message}});
    return new_generation(first_frame_no + frames.size());
  }
  publish();
  // Past the size bound the oldest segments go at once; the timer handles age.
  if (options_.max_bytes > 0 && log_.bytes_on_disk() > options_.max_bytes) trim();
}

void replication_log::new_generation(std::uint64_t at) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (closed_) return;
  if (auto started = log_.start_new_generation(std::max(at, log_.next_frame_no())); !started) {
    log::error("cannot start a new replication log generation", {{"error", started.error().message}});
  }
  generations_.fetch_add(1, std::memory_order_relaxed);
  if (page_size_refused_) return publish();
  log::warn("the replication log lost frames: replicas start over from a snapshot",
            {{"generation", log_.generation_id()}, {"first_frame_no", log_.next_frame_no()}});
  publish();
}

// A replica's connection keeps its cached schema while the schema cookie (page 1, offset 40) is
// unchanged; a later history must start above every cookie served before.
void replication_log::note_schema_cookie(std::string_view page_one) {
  const auto cookie = db::wal::read_be32(reinterpret_cast<const unsigned char*>(page_one.data()) + 40);
  if (cookie <= cookie_floor_) return;
  cookie_floor_ = cookie;
  write_cookie_floor(log_, cookie);
}

void replication_log::trim() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto trimmed = log_.trim(options_.max_bytes, options_.max_age, std::chrono::system_clock::now());
  if (!trimmed) log::warn("cannot trim the replication log", {{"error", trimmed.error().message}});
  publish();
}

void replication_log::start_trimming() {
  asio::post(strand_, [self = shared_from_this()] { self->arm_trim(); });
}

void replication_log::stop_timers() {
  asio::post(strand_, [self = shared_from_this()] {
    self->timers_stopped_ = true;
    self->trim_timer_.cancel();
  });
}

void replication_log::arm_trim() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (closed_ || timers_stopped_) return;
  trim_timer_.expires_after(options_.trim_interval);
  trim_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->closed_ || self->timers_stopped_) return;
    self->trim();
    self->arm_trim();
  });
}

void replication_log::position(asio::any_io_executor reply_to, std::function<void(log_position)> done) {
  asio::post(strand_, [self = shared_from_this(), reply_to = std::move(reply_to), done = std::move(done)] {
    log_position at{self->log_.generation_id(), self->log_.generation_start(), self->log_.first_frame_no(),
                    self->log_.next_frame_no()};
    asio::post(reply_to, [done, at = std::move(at)] { done(at); });
  });
}

void replication_log::read(std::uint64_t from, std::size_t max_frames, asio::any_io_executor reply_to,
                           std::function<void(proto::result<std::string>)> done) {
  asio::post(strand_, [self = shared_from_this(), from, max_frames, reply_to = std::move(reply_to),
                       done = std::move(done)]() mutable {
    std::string records;
    auto count = self->log_.read(from, max_frames, records);
    proto::result<std::string> answer = count.has_error() ? proto::result<std::string>(count.error()) : std::string();
    const std::size_t record = self->log_.record_size();
    for (std::size_t at = 0; answer && at + record <= records.size(); at += record) {
      const auto* p = reinterpret_cast<const unsigned char*>(records.data()) + at;
      proto::wal_log::frame_header h;
      for (int i = 7; i >= 0; --i)
        h.frame_no = (h.frame_no << 8) | p[i];
      for (int i = 3; i >= 0; --i)
        h.page_no = (h.page_no << 8) | p[8 + i];
      for (int i = 3; i >= 0; --i)
        h.size_after = (h.size_after << 8) | p[12 + i];
      std::string data;
      data.reserve(proto::wal_log::frame_size);
      proto::wal_log::append_frame_data(data, h, std::string_view(records.data() + at + 16, record - 16));
      proto::wal_log::append_to_frames(*answer, data);
    }
    asio::post(reply_to, [done = std::move(done), answer = std::move(answer)]() mutable { done(std::move(answer)); });
  });
}

replication_log_stats replication_log::stats() const {
  return {stats_next_.load(std::memory_order_acquire),  stats_first_.load(std::memory_order_relaxed),
          stats_bytes_.load(std::memory_order_relaxed), generations_.load(std::memory_order_relaxed),
          dropped_.load(std::memory_order_relaxed),     snapshots_.load(std::memory_order_relaxed)};
}

void replication_log::publish() {
  stats_next_.store(log_.next_frame_no(), std::memory_order_release);
  stats_first_.store(log_.first_frame_no(), std::memory_order_relaxed);
  stats_bytes_.store(log_.bytes_on_disk(), std::memory_order_relaxed);
}

proto::result<void> replication_log::close(const replica::db_fingerprint& at_close) {
  if (closed_) return {};
  closed_ = true;
  return log_.close(at_close);
}

}  // namespace monolite::actors
