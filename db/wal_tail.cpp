#include "db/wal_tail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace monolite::db {

std::uint32_t wal_chunk::frame_count() const {
  auto h = wal::parse_header(std::string_view(reinterpret_cast<const char*>(wal_header.data()), wal_header.size()));
  return h ? static_cast<std::uint32_t>(frames.size() / h->frame_size()) : 0;
}

proto::result<std::string> read_file_range(int fd, std::uint64_t offset, std::size_t size) {
  std::string out(size, '\0');
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, out.data() + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return proto::internal_error(std::string("cannot read the WAL: ") + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  out.resize(got);
  return out;
}

wal_tail::wal_tail(std::string db_path)
    : db_path_(db_path), wal_path_(db_path + "-wal"), mark_path_(db_path + "-walmark") {}

std::uint64_t file_inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_ino) : 0;
}

void wal_tail::write_mark() const {
  if (!header_) return;
  unsigned char bytes[wal::header_size + 20];
  const std::uint64_t inode = file_inode(db_path_);
  std::memcpy(bytes, raw_header_.data(), wal::header_size);
  wal::write_be32(bytes + 32, frames_);
  wal::write_be32(bytes + 36, chain_.s0);
  wal::write_be32(bytes + 40, chain_.s1);
  wal::write_be32(bytes + 44, static_cast<std::uint32_t>(inode >> 32));
  wal::write_be32(bytes + 48, static_cast<std::uint32_t>(inode));
  // Not synced: like the WAL itself under synchronous=NORMAL, it survives a crash of the process,
  // and a lost mark only costs a new generation.
  const int fd = ::open(mark_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  [[maybe_unused]] auto written = ::write(fd, bytes, sizeof bytes);
  ::close(fd);
}

std::optional<wal_mark> read_wal_mark(const std::string& db_path) {
  const int fd = ::open((db_path + "-walmark").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  auto bytes = read_file_range(fd, 0, wal::header_size + 20);
  ::close(fd);
  if (!bytes || bytes->size() != wal::header_size + 20) return std::nullopt;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes->data());
  wal_mark mark;
  std::memcpy(mark.wal_header.data(), p, wal::header_size);
  mark.frames = wal::read_be32(p + 32);
  mark.chain = {wal::read_be32(p + 36), wal::read_be32(p + 40)};
  mark.db_inode = std::uint64_t(wal::read_be32(p + 44)) << 32 | wal::read_be32(p + 48);
  return mark;
}

wal_tail::~wal_tail() {
  if (fd_ >= 0) ::close(fd_);
}

// True with `raw` filled when the WAL exists and holds a valid header; false when it is empty.
proto::result<wal_tail::wal_state> wal_tail::read_header(std::array<unsigned char, wal::header_size>& raw) {
  if (fd_ < 0) {
    fd_ = ::open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0 && errno == ENOENT) return wal_state::empty;
    if (fd_ < 0) return proto::internal_error("cannot open " + wal_path_ + ": " + std::strerror(errno));
  }
  auto bytes = read_file_range(fd_, 0, wal::header_size);
  if (!bytes) return bytes.error();
  if (bytes->size() < wal::header_size) return wal_state::empty;
  if (!wal::parse_header(*bytes)) return wal_state::empty;
  std::memcpy(raw.data(), bytes->data(), wal::header_size);
  return wal_state::has_header;
}

proto::result<std::optional<wal_chunk>> wal_tail::start(std::uint32_t index, std::optional<std::uint32_t> resume_frame,
                                                        std::int64_t now_ms, std::uint32_t prev_index_frames) {
  index_ = index;
  frames_ = 0;
  prev_index_frames_ = prev_index_frames;
  header_.reset();
  auto found = read_header(raw_header_);
  if (!found) return found.error();
  if (*found == wal_state::empty) return std::optional<wal_chunk>{};
  header_ = wal::parse_header(std::string_view(reinterpret_cast<const char*>(raw_header_.data()), wal::header_size));
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return proto::internal_error("cannot stat " + wal_path_);
  auto bytes = read_file_range(fd_, wal::header_size, static_cast<std::size_t>(st.st_size) - wal::header_size);
  if (!bytes) return bytes.error();
  const auto whole = wal::scan_frames(*header_, *bytes, header_->sum);
  const std::uint32_t stand_at = resume_frame ? std::min(*resume_frame, whole.frames) : whole.frames;
  const auto prefix = wal::scan_frames(
      *header_, std::string_view(*bytes).substr(0, std::size_t(stand_at) * header_->frame_size()), header_->sum);
  frames_ = prefix.frames;
  chain_ = prefix.sum;
  return capture(whole.frames, now_ms);
}

proto::result<std::optional<wal_chunk>> wal_tail::capture(std::uint32_t wal_frames, std::int64_t now_ms) {
  std::array<unsigned char, wal::header_size> raw{};
  auto found = read_header(raw);
  if (!found) return found.error();
  if (*found == wal_state::empty) return std::optional<wal_chunk>{};
  wal_chunk chunk;
  if (!header_ || raw != raw_header_) {  // SQLite restarted the WAL: a new index begins
    if (header_) {
      prev_index_frames_ = frames_;
      ++index_;
    }
    raw_header_ = raw;
    header_ = wal::parse_header(std::string_view(reinterpret_cast<const char*>(raw.data()), wal::header_size));
    frames_ = 0;
    chain_ = header_->sum;
  }
  if (wal_frames <= frames_) return std::optional<wal_chunk>{};
  const std::size_t frame_size = header_->frame_size();
  auto bytes = read_file_range(fd_, wal::header_size + std::uint64_t(frames_) * frame_size,
                               std::size_t(wal_frames - frames_) * frame_size);
  if (!bytes) return bytes.error();
  const auto scan = wal::scan_frames(*header_, *bytes, chain_);
  if (scan.frames != wal_frames - frames_)
    return proto::internal_error("the WAL does not continue what was captured (frame " +
                                 std::to_string(frames_ + scan.frames + 1) + " fails its checks)");
  chunk.index = index_;
  chunk.first_frame = frames_ + 1;
  chunk.prev_index_frames = chunk.first_frame == 1 ? prev_index_frames_ : 0;
  chunk.wal_header = raw_header_;
  chunk.chain_in = chain_;
  chunk.frames = std::move(*bytes);
  chunk.commit_times_ms.assign(scan.commits, now_ms);
  frames_ = wal_frames;
  chain_ = scan.sum;
  return std::optional<wal_chunk>(std::move(chunk));
}

}  // namespace monolite::db
