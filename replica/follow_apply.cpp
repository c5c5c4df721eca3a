#include "replica/follow_apply.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace monolite::replica {
namespace {

constexpr std::size_t page_bytes = 4096;
constexpr std::size_t header_bytes = 128;
constexpr std::size_t record_bytes = 4 + page_bytes;
constexpr std::size_t max_log_id = header_bytes - 36;
constexpr std::string_view redo_magic = "MLREDO01";
constexpr std::uint64_t fnv_offset = 0xcbf29ce484222325ull;

std::uint64_t fnv1a(std::uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes)
    hash = (hash ^ c) * 0x100000001b3ull;
  return hash;
}

void put_u32(char* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    at[i] = static_cast<char>(v >> (8 * i));
}
void put_u64(char* at, std::uint64_t v) {
  for (int i = 0; i < 8; ++i)
    at[i] = static_cast<char>(v >> (8 * i));
}
std::uint32_t get_u32(const char* at) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(at[i]);
  return v;
}
std::uint64_t get_u64(const char* at) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(at[i]);
  return v;
}
void put_be32(unsigned char* at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    at[i] = static_cast<unsigned char>(v >> (24 - 8 * i));
}
std::uint32_t get_be32(const unsigned char* at) {
  return (std::uint32_t{at[0]} << 24) | (std::uint32_t{at[1]} << 16) | (std::uint32_t{at[2]} << 8) | at[3];
}

proto::api_error io_error(const std::string& what) { return proto::internal_error(what + ": " + std::strerror(errno)); }

proto::result<void> write_all(int fd, std::string_view bytes, off_t offset, const std::string& what) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), offset);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return io_error(what);
    bytes.remove_prefix(static_cast<std::size_t>(n)), offset += n;
  }
  return {};
}

// Reads exactly out.size() bytes at `offset`; false at end of file.
proto::result<bool> read_exact(int fd, std::string& out, off_t offset, const std::string& what) {
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + got, out.size() - got, offset + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(what);
    if (n == 0) return proto::result<bool>(boost::system::in_place_value, false);
    got += static_cast<std::size_t>(n);
  }
  return proto::result<bool>(boost::system::in_place_value, true);
}

proto::result<void> sync_folder(const std::string& path) {
  auto folder = std::filesystem::path(path).parent_path();
  if (folder.empty()) folder = ".";
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open " + folder.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return io_error("fsync " + folder.string());
  return {};
}

struct redo_header {
  follow_position after;
  std::uint32_t size_after = 0;
  std::uint32_t count = 0;
  std::uint64_t hash = 0;
};

std::string encode_header(const redo_header& h) {
  std::string out(header_bytes, '\0');
  std::memcpy(out.data(), redo_magic.data(), redo_magic.size());
  put_u64(out.data() + 8, h.after.next_frame);
  put_u32(out.data() + 16, h.size_after);
  put_u32(out.data() + 20, h.count);
  put_u64(out.data() + 24, h.hash);
  put_u32(out.data() + 32, static_cast<std::uint32_t>(h.after.log_id.size()));
  std::memcpy(out.data() + 36, h.after.log_id.data(), h.after.log_id.size());
  return out;
}

// The hash covers the header without its hash field, then every record.
std::uint64_t header_hash(const std::string& encoded) {
  return fnv1a(fnv1a(fnv_offset, std::string_view(encoded).substr(0, 24)), std::string_view(encoded).substr(32));
}

// The redo file's header when the file is complete (checksum over everything good); none when it
// is torn or absent.
proto::result<std::optional<redo_header>> read_complete_redo(int fd) {
  std::string head(header_bytes, '\0');
  auto got = read_exact(fd, head, 0, "read redo header");
  if (!got) return got.error();
  if (!*got || std::string_view(head).substr(0, 8) != redo_magic) return std::nullopt;
  redo_header h{
      {"", get_u64(head.data() + 8)}, get_u32(head.data() + 16), get_u32(head.data() + 20), get_u64(head.data() + 24)};
  const std::uint32_t id_size = get_u32(head.data() + 32);
  if (id_size > max_log_id) return std::nullopt;
  h.after.log_id.assign(head.data() + 36, id_size);
  std::uint64_t hash = header_hash(head);
  std::string record(record_bytes, '\0');
  for (std::uint32_t i = 0; i < h.count; ++i) {
    auto ok = read_exact(fd, record, static_cast<off_t>(header_bytes + i * record_bytes), "read redo");
    if (!ok) return ok.error();
    if (!*ok) return std::nullopt;
    hash = fnv1a(hash, record);
  }
  if (hash != h.hash) return std::nullopt;
  return h;
}

proto::result<void> write_state(const std::string& db_path, const follow_position& p) {
  const std::string path = follow_state_path(db_path), temp = path + ".tmp";
  const std::string text = p.log_id + " " + std::to_string(p.next_frame) + "\n";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open " + temp);
  auto written = write_all(fd, text, 0, "write " + temp);
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return written;
  if (!synced) return io_error("fsync " + temp);
  if (::rename(temp.c_str(), path.c_str()) != 0) return io_error("rename " + temp);
  return sync_folder(path);
}

// Page 1 as readers must see it: rollback-journal mode, a new change counter, our size.
void patch_page_one(std::string& page, std::uint32_t counter, std::uint32_t size_after) {
  auto* bytes = reinterpret_cast<unsigned char*>(page.data());
  bytes[18] = 1, bytes[19] = 1;
  put_be32(bytes + 24, counter);
  put_be32(bytes + 28, size_after);
  put_be32(bytes + 92, counter);
}

}  // namespace

std::string follow_redo_path(const std::string& db_path) { return db_path + "-follow-redo"; }
std::string follow_state_path(const std::string& db_path) { return db_path + "-follow-state"; }

proto::result<std::optional<follow_position>> read_follow_state(const std::string& db_path) {
  std::ifstream in(follow_state_path(db_path));
  if (!in) return std::nullopt;
  follow_position p;
  if (!(in >> p.log_id >> p.next_frame)) return proto::internal_error("unreadable " + follow_state_path(db_path));
  return p;
}

redo_writer::redo_writer(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
redo_writer::redo_writer(redo_writer&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      count_(other.count_),
      buffer_(std::move(other.buffer_)) {}
redo_writer::~redo_writer() {
  if (fd_ >= 0) ::close(fd_);
}

proto::result<redo_writer> redo_writer::create(const std::string& db_path) {
  const std::string path = follow_redo_path(db_path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open " + path);
  return redo_writer(path, fd);
}

proto::result<void> redo_writer::add_page(std::uint32_t page_no, std::string_view image) {
  if (image.size() != page_bytes || page_no == 0) return proto::internal_error("a redo page must be 4096 bytes");
  const std::size_t start = buffer_.size();
  buffer_.resize(start + 4);
  put_u32(buffer_.data() + start, page_no);
  buffer_.append(image);
  ++count_;
  if (buffer_.size() < (std::size_t{1} << 20)) return {};
  const off_t offset = static_cast<off_t>(header_bytes + (count_ * record_bytes) - buffer_.size());
  auto written = write_all(fd_, buffer_, offset, "write " + path_);
  buffer_.clear();
  return written;
}

proto::result<void> redo_writer::finish(const follow_position& after, std::uint32_t size_after) {
  if (after.log_id.size() > max_log_id) return proto::internal_error("log id too long");
  const off_t offset = static_cast<off_t>(header_bytes + (count_ * record_bytes) - buffer_.size());
  if (auto written = write_all(fd_, buffer_, offset, "write " + path_); !written) return written;
  buffer_.clear();
  redo_header h{after, size_after, count_, 0};
  // Hashed over what the file holds (read back from the page cache: cheap next to the fsync).
  h.hash = header_hash(encode_header(h));
  std::string record(record_bytes, '\0');
  for (std::uint32_t i = 0; i < count_; ++i) {
    auto ok = read_exact(fd_, record, static_cast<off_t>(header_bytes + i * record_bytes), "read " + path_);
    if (!ok) return ok.error();
    h.hash = fnv1a(h.hash, record);
  }
  if (auto written = write_all(fd_, encode_header(h), 0, "write " + path_); !written) return written;
  if (::fdatasync(fd_) != 0) return io_error("fdatasync " + path_);
  return sync_folder(path_);
}

follow_applier::follow_applier(std::string db_path, int fd, sqlite3* lock_db, std::optional<follow_position> position)
    : db_path_(std::move(db_path)), fd_(fd), lock_db_(lock_db), position_(std::move(position)) {}

follow_applier::~follow_applier() {
  sqlite3_close_v2(lock_db_);
  ::close(fd_);
}

proto::result<std::unique_ptr<follow_applier>> follow_applier::open(const std::string& db_path, int busy_timeout_ms) {
  auto position = read_follow_state(db_path);
  if (!position) return position.error();
  const int fd = ::open(db_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open " + db_path);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc == SQLITE_OK) sqlite3_busy_timeout(db, busy_timeout_ms);
  if (rc == SQLITE_OK && sqlite3_exec(db, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) == SQLITE_OK) {
    std::unique_ptr<follow_applier> applier(new follow_applier(db_path, fd, db, std::move(*position)));
    if (auto recovered = applier->apply_redo(); !recovered) return recovered.error();
    return applier;
  }
  std::string message = db ? sqlite3_errmsg(db) : "out of memory";
  sqlite3_close_v2(db);
  ::close(fd);
  return proto::internal_error("cannot open " + db_path + ": " + message);
}

// BEGIN EXCLUSIVE waits (busy timeout) for readers to end their transactions; retried until it
// holds, since a follower has nothing better to do than apply.
proto::result<void> follow_applier::lock_exclusive() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int rc = sqlite3_exec(lock_db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return {};
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
      return proto::internal_error(std::string("BEGIN EXCLUSIVE: ") + sqlite3_errmsg(lock_db_));
  }
  return proto::internal_error("BEGIN EXCLUSIVE: readers kept the database busy");
}

void follow_applier::unlock() { sqlite3_exec(lock_db_, "ROLLBACK", nullptr, nullptr, nullptr); }

proto::result<void> follow_applier::write_pages(int redo_fd, std::uint32_t count, std::uint32_t size_after) {
  std::string page_one(page_bytes, '\0');
  auto had = read_exact(fd_, page_one, 0, "read " + db_path_);
  if (!had) return had.error();
  const auto* old = reinterpret_cast<const unsigned char*>(page_one.data());
  const std::uint32_t counter = *had ? get_be32(old + 24) + 1 : 1;
  bool wrote_page_one = false;
  std::string record(record_bytes, '\0');
  for (std::uint32_t i = 0; i < count; ++i) {
    auto ok = read_exact(redo_fd, record, static_cast<off_t>(header_bytes + i * record_bytes), "read redo");
    if (!ok) return ok.error();
    const std::uint32_t page_no = get_u32(record.data());
    std::string page = record.substr(4);
    if (page_no == 1) patch_page_one(page, counter, size_after), wrote_page_one = true, page_one = page;
    if (page_no > size_after) continue;  // dropped by the truncation below
    if (auto w = write_all(fd_, page, static_cast<off_t>(page_no - 1) * page_bytes, "write " + db_path_); !w) return w;
  }
  if (::ftruncate(fd_, static_cast<off_t>(size_after) * page_bytes) != 0) return io_error("truncate " + db_path_);
  if (!wrote_page_one) {
    patch_page_one(page_one, counter, size_after);
    if (auto w = write_all(fd_, page_one, 0, "write " + db_path_); !w) return w;
  }
  if (::fdatasync(fd_) != 0) return io_error("fdatasync " + db_path_);
  return {};
}

proto::result<void> follow_applier::apply_redo() {
  const std::string path = follow_redo_path(db_path_);
  const int redo = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (redo < 0) return errno == ENOENT ? proto::result<void>{} : io_error("open " + path);
  auto header = read_complete_redo(redo);
  proto::result<void> applied;
  if (!header) {
    applied = header.error();
  } else if (*header && (*header)->size_after > 0) {
    applied = lock_exclusive();
    if (applied) {
      applied = write_pages(redo, (*header)->count, (*header)->size_after);
      unlock();
    }
    if (applied) applied = write_state(db_path_, (*header)->after);
    if (applied) position_ = (*header)->after;
  }
  ::close(redo);
  if (!applied) return applied;
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return io_error("remove " + path);
  return {};
}

}  // namespace monolite::replica
