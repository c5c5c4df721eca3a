#include "replica/frame_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <tuple>

namespace monolite::replica {
namespace fs = std::filesystem;
using proto::api_error;
using proto::internal_error;
using proto::result;
using namespace frame_log_format;

namespace {

constexpr std::size_t flush_bytes = 1 << 20;  // appends write in pieces of about this size

api_error io_error(const std::string& what, const std::string& path, int err) {
  return internal_error(what + " " + path + ": " + std::strerror(err));
}

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out += static_cast<char>((value >> (8 * i)) & 0xff);
}

std::uint64_t get_le(const char* p, int bytes) {
  std::uint64_t value = 0;
  for (int i = bytes - 1; i >= 0; --i)
    value = (value << 8) | static_cast<unsigned char>(p[i]);
  return value;
}

bool pwrite_all(int fd, std::string_view bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n)), offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

// Bytes read into [p, p + size) from `offset`; fewer at the end of the file, -1 on error.
ssize_t pread_all(int fd, char* p, std::size_t size, std::uint64_t offset) {
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, p + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(got);
}

std::int64_t nanoseconds_of(const timespec& t) { return std::int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

// A small file's bytes; nullopt if it does not exist.
result<std::optional<std::string>> read_small_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) return std::optional<std::string>();
  if (fd < 0) return io_error("cannot open", path, errno);
  std::string bytes(4096, '\0');
  const ssize_t n = pread_all(fd, bytes.data(), bytes.size(), 0);
  const int err = errno;
  ::close(fd);
  if (n < 0) return io_error("cannot read", path, err);
  bytes.resize(static_cast<std::size_t>(n));
  return std::optional<std::string>(std::move(bytes));
}

// Through a temporary file, fsynced, renamed over `path`, and the directory fsynced.
result<void> replace_file(const std::string& dir, const std::string& path, std::string_view bytes) {
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", temp, errno);
  const bool written = pwrite_all(fd, bytes, 0) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!written) return io_error("cannot write", temp, err);
  if (::rename(temp.c_str(), path.c_str()) != 0) return io_error("cannot rename", temp, errno);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const bool synced = dir_fd >= 0 && ::fsync(dir_fd) == 0;
  const int dir_err = errno;
  if (dir_fd >= 0) ::close(dir_fd);
  if (!synced) return io_error("cannot sync", dir, dir_err);
  return {};
}

struct segment_file {
  std::uint64_t first = 0;
  std::uint64_t size = 0;
};

// The directory's segment files, oldest first.
result<std::vector<segment_file>> list_segment_files(const std::string& dir) {
  std::vector<segment_file> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const auto first = segment_first(it->path().filename().string());
    if (first) out.push_back({*first, static_cast<std::uint64_t>(it->file_size(ec))});
    if (ec) break;
  }
  if (ec) return internal_error("cannot list " + dir + ": " + ec.message());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

// Why an existing generation cannot go on; empty if it can.
std::string continuation_refusal(const meta& m, const db_fingerprint& now, const std::string& damage,
                                 std::uint64_t end) {
  if (!m.clean_next) return "the log was not closed cleanly";
  if (!(m.clean_fingerprint == now)) return "the database files changed after the log was closed";
  if (!damage.empty()) return damage;
  if (end != *m.clean_next)
    return "the segments end at frame " + std::to_string(end) + " but the log was closed at frame " +
           std::to_string(*m.clean_next);
  return "";
}

}  // namespace

db_fingerprint fingerprint_of(const std::string& db_path) {
  db_fingerprint f;
  struct stat st {};
  if (::stat(db_path.c_str(), &st) == 0)
    f.db_inode = st.st_ino, f.db_size = static_cast<std::uint64_t>(st.st_size),
    f.db_mtime_ns = nanoseconds_of(st.st_mtim);
  if (::stat((db_path + "-wal").c_str(), &st) == 0)
    f.wal_size = static_cast<std::uint64_t>(st.st_size), f.wal_mtime_ns = nanoseconds_of(st.st_mtim);
  return f;
}

frame_log::file_handle& frame_log::file_handle::operator=(file_handle&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

frame_log::file_handle::~file_handle() {
  if (fd_ >= 0) ::close(fd_);
}

result<frame_log> frame_log::open(const std::string& db_path, const frame_log_options& options,
                                  const db_fingerprint& now) {
  const auto size = options.page_size;
  if (size < 512 || size > 65536 || (size & (size - 1)) != 0)
    return internal_error("frame log: page size " + std::to_string(size) + " is not a power of two in 512..65536");
  if (options.segment_frames == 0) return internal_error("frame log: segment_frames must be at least 1");
  frame_log log;
  log.dir_ = db_path + "-replog";
  log.page_size_ = options.page_size;
  log.segment_frames_ = options.segment_frames;
  if (::mkdir(log.dir_.c_str(), 0755) != 0 && errno != EEXIST) return io_error("cannot create", log.dir_, errno);
  if (auto recovered = log.recover(now); !recovered) return recovered.error();
  log.buffer_.reserve(flush_bytes + log.record_size());
  return log;
}

result<void> frame_log::recover(const db_fingerprint& now) {
  auto text = read_small_file(dir_ + "/meta");
  if (!text) return text.error();
  std::optional<meta> found = *text ? parse_meta(**text, opening_reason_) : std::nullopt;
  if (found && found->page_size != page_size_) {
    opening_reason_ =
        "the log holds pages of " + std::to_string(found->page_size) + " bytes, not " + std::to_string(page_size_);
    found.reset();
  }
  if (!found) {
    opening_ = *text ? log_opening::started_over : log_opening::created;
    log_id_ = new_uuid();
    return begin_generation(0);
  }
  log_id_ = found->log_id, generation_id_ = found->generation_id, generation_start_ = found->generation_start;
  auto damage = scan_segments();
  if (!damage) return damage.error();
  const std::uint64_t end = segments_.empty() ? generation_start_ : segments_.back().first + segments_.back().count;
  opening_reason_ = continuation_refusal(*found, now, *damage, end);
  if (!opening_reason_.empty()) {
    opening_ = log_opening::new_generation;
    return begin_generation(std::max({end, found->clean_next.value_or(0), generation_start_}));
  }
  opening_ = log_opening::continued;
  next_ = end;
  if (auto saved = save_meta(nullptr); !saved) return saved;  // a crash from here on is seen next time
  return open_current();
}

// Loads the segment files and cuts a torn last record off; returns what is wrong with them, if anything.
result<std::string> frame_log::scan_segments() {
  auto files = list_segment_files(dir_);
  if (!files) return files.error();
  std::string damage;
  for (const auto& file : *files) {
    const std::uint64_t expected =
        segments_.empty() ? generation_start_ : segments_.back().first + segments_.back().count;
    const bool follows = segments_.empty() ? file.first >= expected : file.first == expected;
    const bool whole = file.size % record_size() == 0 || &file == &files->back();
    if (damage.empty() && !follows) damage = "segment " + segment_path(file.first) + " leaves a gap";
    if (damage.empty() && !whole) damage = "segment " + segment_path(file.first) + " holds a partial record";
    segments_.push_back({file.first, file.size / record_size()});
  }
  if (segments_.empty()) return damage;
  const segment& last = segments_.back();
  const std::string path = segment_path(last.first);
  if (files->back().size != last.count * record_size() && ::truncate(path.c_str(), last.count * record_size()) != 0)
    return io_error("cannot truncate", path, errno);
  if (!damage.empty() || last.count == 0) return damage;
  // The last record must be the end of a commit (close() synced it; anything else is another history).
  std::string header;
  if (auto read = read_records(last, last.count - 1, 1, header); !read) return read.error();
  if (get_le(header.data(), 8) != last.first + last.count - 1 || get_le(header.data() + 12, 4) == 0)
    damage =
        "the last record of " + path + " is not the commit of frame " + std::to_string(last.first + last.count - 1);
  return damage;
}

result<void> frame_log::begin_generation(std::uint64_t start) {
  if (auto removed = remove_segments(); !removed) return removed;
  const auto before = std::tuple(generation_id_, generation_start_, next_);
  generation_id_ = new_uuid();
  generation_start_ = next_ = start;
  auto saved = save_meta(nullptr);
  if (!saved) std::tie(generation_id_, generation_start_, next_) = before;  // as the meta on disk says
  return saved;
}

result<void> frame_log::save_meta(const db_fingerprint* clean) const {
  meta m{page_size_, log_id_, generation_id_, generation_start_, std::nullopt, {}};
  if (clean) m.clean_next = next_, m.clean_fingerprint = *clean;
  return replace_file(dir_, dir_ + "/meta", encode_meta(m));
}

result<void> frame_log::remove_segments() {
  current_ = file_handle();
  segments_.clear();
  std::vector<fs::path> doomed;  // listed first: deleting while iterating may skip entries
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->path().filename().string().starts_with(segment_prefix)) doomed.push_back(it->path());
  if (ec) return internal_error("cannot list " + dir_ + ": " + ec.message());
  for (const auto& path : doomed)
    if (fs::remove(path, ec); ec) return internal_error("cannot delete " + path.string() + ": " + ec.message());
  return {};
}

result<void> frame_log::open_current() {
  if (segments_.empty()) return {};
  const std::string path = segment_path(segments_.back().first);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path, errno);
  current_ = file_handle(fd);
  return {};
}

result<frame_range> frame_log::append(std::span<const frame_in> commit) {
  if (auto open = check_open(); !open) return open.error();
  if (auto valid = check_commit(commit); !valid) return valid.error();
  // Only here, before a commit, so that every segment starts at a commit boundary.
  if (segments_.empty() || segments_.back().count >= segment_frames_)
    if (auto rotated = rotate(); !rotated) return rotated.error();
  if (auto written = write_records(commit); !written) return written.error();
  const frame_range range{next_, next_ + commit.size()};
  segments_.back().count += commit.size(), segments_.back().synced = false;
  next_ = range.next;
  return range;
}

// The caller's bug, reported as a value; no allocation unless a frame is wrong.
result<void> frame_log::check_commit(std::span<const frame_in> commit) const {
  if (commit.empty()) return internal_error("frame log: an empty commit");
  auto wrong = [](std::size_t i, const std::string& what) {
    return internal_error("frame log: frame " + std::to_string(i) + " of the commit " + what);
  };
  for (std::size_t i = 0; i < commit.size(); ++i) {
    const auto& frame = commit[i];
    const bool last = i + 1 == commit.size();
    if (frame.page.size() != page_size_)
      return wrong(i, "has " + std::to_string(frame.page.size()) + " bytes, not " + std::to_string(page_size_));
    if (frame.page_no == 0) return wrong(i, "has page number 0");
    if (last && frame.size_after == 0) return wrong(i, "ends it but has size_after 0");
    if (!last && frame.size_after != 0) return wrong(i, "is not its last but has size_after != 0");
  }
  return {};
}

result<void> frame_log::rotate() {
  const std::string path = segment_path(next_);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("cannot create", path, errno);
  current_ = file_handle(fd);
  segments_.push_back({next_, 0, false});
  return {};
}

result<void> frame_log::write_records(std::span<const frame_in> commit) {
  const int fd = current_.get();
  const std::uint64_t start = segments_.back().count * record_size();
  std::uint64_t offset = start, frame_no = next_;
  bool ok = true;
  auto flush = [&] {
    ok = pwrite_all(fd, buffer_, offset);
    offset += buffer_.size();
    buffer_.clear();
    return ok;
  };
  buffer_.clear();
  for (const auto& frame : commit) {
    put_le(buffer_, frame_no++, 8), put_le(buffer_, frame.page_no, 4), put_le(buffer_, frame.size_after, 4);
    buffer_.append(frame.page);
    if (buffer_.size() >= flush_bytes && !flush()) break;
  }
  if (ok && !buffer_.empty()) flush();
  if (ok) return {};
  const std::string path = segment_path(segments_.back().first);
  std::string message = "cannot write " + path + ": " + std::strerror(errno);
  buffer_.clear();
  // Whatever part of the commit reached the file goes: the segment stays whole commits.
  if (::ftruncate(fd, static_cast<off_t>(start)) != 0)
    message += std::string(" (and cannot cut the partial commit off: ") + std::strerror(errno) + ")";
  return internal_error(message);
}

result<std::size_t> frame_log::read(std::uint64_t from, std::size_t max_frames, std::string& out) const {
  if (auto open = check_open(); !open) return open.error();
  if (from < first_frame_no())
    return api_error{
        410, std::string(need_snapshot_code),
        "frame " + std::to_string(from) + " is gone: the log starts at " + std::to_string(first_frame_no())};
  if (from > next_)
    return api_error{
        400, std::string(ahead_of_log_code),
        "frame " + std::to_string(from) + " is ahead of the log, which ends before " + std::to_string(next_)};
  std::size_t done = 0;
  auto it = std::upper_bound(segments_.begin(), segments_.end(), from,
                             [](std::uint64_t frame, const segment& s) { return frame < s.first; });
  for (it = it == segments_.begin() ? it : it - 1; done < max_frames && from < next_ && it != segments_.end(); ++it) {
    const std::uint64_t count = std::min<std::uint64_t>(max_frames - done, it->first + it->count - from);
    if (auto read = read_records(*it, from - it->first, count, out); !read) return read.error();
    done += count, from += count;
  }
  return {boost::system::in_place_value, done};  // (a bare integer would also convert to api_error)
}

result<void> frame_log::read_records(const segment& s, std::uint64_t at, std::uint64_t count, std::string& out) const {
  if (count == 0) return {};
  const std::string path = segment_path(s.first);
  const bool current = &s == &segments_.back() && current_.get() >= 0;
  const int fd = current ? current_.get() : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open", path, errno);
  const std::size_t old_size = out.size(), bytes = count * record_size();
  out.resize(old_size + bytes);
  const ssize_t n = pread_all(fd, out.data() + old_size, bytes, at * record_size());
  const int err = errno;
  if (!current) ::close(fd);
  if (n == static_cast<ssize_t>(bytes)) return {};
  out.resize(old_size);
  if (n < 0) return io_error("cannot read", path, err);
  return internal_error("segment " + path + " is shorter than its " + std::to_string(s.count) + " frames");
}

result<void> frame_log::trim(std::uint64_t max_bytes, std::chrono::seconds max_age,
                             std::chrono::system_clock::time_point now) {
  if (auto open = check_open(); !open) return open;
  while (segments_.size() > 1) {
    const std::string path = segment_path(segments_.front().first);
    bool expired = false;
    if (max_age.count() > 0) {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) return io_error("cannot stat", path, errno);
      const auto written =
          std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::nanoseconds(nanoseconds_of(st.st_mtim))));
      expired = now - written > max_age;
    }
    if (!expired && !(max_bytes > 0 && bytes_on_disk() > max_bytes)) break;
    if (::unlink(path.c_str()) != 0) return io_error("cannot delete", path, errno);
    segments_.erase(segments_.begin());
  }
  return {};
}

result<void> frame_log::start_new_generation(std::optional<std::uint64_t> at) {
  if (auto open = check_open(); !open) return open;
  if (at && *at < next_) return proto::internal_error("a new generation cannot start before the log's end");
  return begin_generation(at.value_or(next_));
}

result<void> frame_log::sync_segments() {
  for (auto& s : segments_) {
    if (s.synced) continue;
    const std::string path = segment_path(s.first);
    const bool current = &s == &segments_.back();
    const int fd = current ? current_.get() : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && ::fsync(fd) == 0;
    const int err = errno;
    if (!current && fd >= 0) ::close(fd);
    if (!ok) return io_error("cannot sync", path, err);
    s.synced = true;
  }
  return {};
}

result<void> frame_log::close(const db_fingerprint& at_close) {
  if (auto open = check_open(); !open) return open;
  if (auto synced = sync_segments(); !synced) return synced;
  if (auto saved = save_meta(&at_close); !saved) return saved;
  current_ = file_handle();
  closed_ = true;
  return {};
}

result<void> frame_log::check_open() const {
  if (closed_) return internal_error("frame log: used after close()");
  return {};
}

std::uint64_t frame_log::bytes_on_disk() const {
  std::uint64_t frames = 0;
  for (const auto& s : segments_)
    frames += s.count;
  return frames * record_size();
}

std::string frame_log::segment_path(std::uint64_t first) const { return dir_ + "/" + segment_name(first); }

}  // namespace monolite::replica
