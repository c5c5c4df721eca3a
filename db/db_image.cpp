#include "db/db_image.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "db/wal_format.hpp"
#include "db/wal_tail.hpp"

namespace monolite::db {

namespace {

struct fd_guard {
  int fd = -1;
  fd_guard() = default;
  explicit fd_guard(int f) : fd(f) {}
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

proto::api_error io_error(const std::string& what, const std::string& path) {
  return proto::internal_error(what + " " + path + ": " + std::strerror(errno));
}

// Page number → byte offset of its newest frame among the first `frames`.
struct wal_index {
  wal::header header;
  std::unordered_map<std::uint32_t, std::uint64_t> newest;
  std::uint32_t db_pages = 0;
};

proto::result<void> index_wal(int fd, std::uint32_t frames, const std::string& path, wal_index& out) {
  auto head = read_file_range(fd, 0, wal::header_size);
  if (!head) return head.error();
  auto h = wal::parse_header(*head);
  if (!h) return proto::internal_error("no valid WAL header in " + path);
  out = wal_index{*h, {}, 0};
  auto bytes = read_file_range(fd, wal::header_size, std::size_t(frames) * h->frame_size());
  if (!bytes) return bytes.error();
  const auto scan = wal::scan_frames(*h, *bytes, h->sum);
  if (scan.frames < frames) return proto::internal_error("the WAL holds fewer valid frames than expected: " + path);
  for (std::uint32_t i = 0; i < frames; ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes->data()) + std::size_t(i) * h->frame_size();
    const auto f = wal::parse_frame_header(p);
    out.newest[f.page_number] = wal::header_size + std::uint64_t(i) * h->frame_size() + wal::frame_header_size;
    if (f.is_commit()) out.db_pages = f.db_size_after_commit;
  }
  return {};
}

// Page size and page count from the database header (when the WAL contributes nothing).
proto::result<std::pair<std::uint32_t, std::uint32_t>> db_geometry(int fd, const std::string& path) {
  auto head = read_file_range(fd, 0, 100);
  if (!head) return head.error();
  struct stat st {};
  if (::fstat(fd, &st) != 0) return io_error("cannot stat", path);
  if (head->size() < 100) return std::pair<std::uint32_t, std::uint32_t>{4096, 0};  // empty database
  const auto* p = reinterpret_cast<const unsigned char*>(head->data());
  std::uint32_t page_size = (std::uint32_t(p[16]) << 8) | p[17];
  if (page_size == 1) page_size = 65536;
  if (page_size < 512) return proto::internal_error("not a SQLite database: " + path);
  std::uint32_t pages = wal::read_be32(p + 28);
  // The in-header size is valid only when its "version-valid-for" matches the change counter.
  if (pages == 0 || wal::read_be32(p + 92) != wal::read_be32(p + 24))
    pages = static_cast<std::uint32_t>(st.st_size / page_size);
  return std::pair{page_size, pages};
}

}  // namespace

struct image_reader::state {
  std::string db_path, wal_path;
  fd_guard db, wal;
  wal_index index;
};

image_reader::image_reader(std::unique_ptr<state> s) : state_(std::move(s)) {}
image_reader::image_reader(image_reader&&) noexcept = default;
image_reader& image_reader::operator=(image_reader&&) noexcept = default;
image_reader::~image_reader() = default;

proto::result<image_reader> image_reader::open(const std::string& db_path, std::uint32_t wal_frames) {
  auto s = std::make_unique<state>();
  s->db_path = db_path;
  s->wal_path = db_path + "-wal";
  s->db.fd = ::open(db_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (s->db.fd < 0) return io_error("cannot open", db_path);
  auto geometry = db_geometry(s->db.fd, db_path);
  if (!geometry) return geometry.error();
  image_info info{geometry->first, geometry->second};
  if (wal_frames > 0) {
    s->wal.fd = ::open(s->wal_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (s->wal.fd < 0) return io_error("cannot open", s->wal_path);
    if (auto built = index_wal(s->wal.fd, wal_frames, s->wal_path, s->index); !built) return built.error();
    info = {s->index.header.page_size, s->index.db_pages};
  }
  image_reader reader(std::move(s));
  reader.info_ = info;
  return reader;
}

proto::result<void> image_reader::read_pages(std::uint32_t first, std::uint32_t count, std::string& out) const {
  if (first < 1 || first > info_.pages) return {};
  count = std::min(count, info_.pages - first + 1);
  const std::size_t page_size = info_.page_size;
  auto block = read_file_range(state_->db.fd, std::uint64_t(first - 1) * page_size, std::size_t(count) * page_size);
  if (!block) return block.error();
  block->resize(std::size_t(count) * page_size, '\0');  // pages past the file's end are zeros
  for (std::uint32_t i = 0; i < count && !state_->index.newest.empty(); ++i) {
    auto it = state_->index.newest.find(first + i);
    if (it == state_->index.newest.end()) continue;
    auto page = read_file_range(state_->wal.fd, it->second, page_size);
    if (!page || page->size() != page_size) return proto::internal_error("short read in " + state_->wal_path);
    std::memcpy(block->data() + std::size_t(i) * page_size, page->data(), page_size);
  }
  out.append(*block);
  return {};
}

proto::result<image_info> read_image(const std::string& db_path, std::uint32_t wal_frames,
                                     const std::function<void(std::string_view)>& sink) {
  auto reader = image_reader::open(db_path, wal_frames);
  if (!reader) return reader.error();
  constexpr std::uint32_t batch_pages = 256;
  std::string block;
  for (std::uint32_t first = 1; first <= reader->info().pages; first += batch_pages) {
    block.clear();
    if (auto read = reader->read_pages(first, batch_pages, block); !read) return read.error();
    sink(block);
  }
  return reader->info();
}

proto::result<std::uint32_t> committed_wal_frames(const std::string& db_path) {
  wal_tail tail(db_path);
  auto started = tail.start(0);
  if (!started) return started.error();
  if (*started) return proto::result<std::uint32_t>(boost::system::in_place_value, (*started)->end().frame);
  return proto::result<std::uint32_t>(boost::system::in_place_value, tail.position().frame);
}

proto::result<read_pin> read_pin::open(const std::string& db_path) {
  ::sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_schema;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return proto::internal_error("cannot open " + db_path + ": " + why);
  }
  return read_pin(db);
}

read_pin::~read_pin() {
  if (db_) sqlite3_close(db_);  // ends the read transaction
}

}  // namespace monolite::db
