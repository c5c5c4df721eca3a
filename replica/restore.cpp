#include "replica/restore.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "replica/download_pipe.hpp"
#include "replica/format/lz4.hpp"
#include "replica/format/restore_plan.hpp"
#include "replica/format/wal_segment.hpp"
#include "replica/ordered_fetcher.hpp"
#include "replica/resume.hpp"
#include "replica/retrying_store.hpp"

namespace monolite::replica {
namespace fs = std::filesystem;
namespace wal = db::wal;
using replica::layout::position;
using restore_result = boost::system::result<restore_report, restore_error>;
// One step of a restore: done, or why it could not be.
using step_result = boost::system::result<void, restore_error>;

namespace {

restore_result fail(std::string message) {
  return restore_result(boost::system::in_place_error, restore_error{std::move(message)});
}

// The database being rebuilt: a temporary file that pages are written into.
struct image_file {
  std::string path;
  int fd = -1;
  std::uint32_t page_size = 0;
  std::uint32_t pages = 0;
  ~image_file() {
    if (fd >= 0) ::close(fd);
  }
  bool write_at(std::uint64_t offset, std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n)), offset += static_cast<std::uint64_t>(n);
    }
    return true;
  }
};

// Where the replay stands, and where it must stop.
struct replay {
  position at;
  std::int64_t last_time_ms = 0;
  std::optional<std::int64_t> until_ms;
  std::optional<position> stop_at;
  bool finished = false;
};

// The page size and page count of the image just written (`size` bytes).
step_result read_page_size(image_file& image, std::uint64_t size) {
  std::string head(100, '\0');
  if (size < 100 || ::pread(image.fd, head.data(), 100, 0) != 100)
    return restore_error{"the snapshot is not a database"};
  const auto* p = reinterpret_cast<const unsigned char*>(head.data());
  image.page_size = (std::uint32_t(p[16]) << 8) | p[17];
  if (image.page_size == 1) image.page_size = 65536;
  if (image.page_size < 512) return restore_error{"the snapshot is not a database"};
  image.pages = static_cast<std::uint32_t>(size / image.page_size);
  return {};
}

// A failed download, naming the object once (sealed_store's refusals name it already).
restore_error download_failure(const std::string& key, const store_error& error) {
  if (error.message.starts_with(key + ": ")) return restore_error{error.message};
  return restore_error{"cannot download " + key + ": " + error.message};
}

// Streams the snapshot in: downloaded on a thread of its own, decompressed and written here as
// its pieces arrive, so memory holds a few pieces, never the image.
step_result write_snapshot(object_store& store, const std::string& key, const restore_request& req, image_file& image,
                           std::uint64_t& downloaded) {
  download_pipe download(store, key);
  replica::lz4::decompressor lz4;
  std::uint64_t offset = 0;
  bool written = true;
  const auto write = [&](std::string_view piece) {
    written = image.write_at(offset, piece);
    offset += piece.size();
    return written;
  };
  for (;;) {
    auto piece = download.next();
    if (!piece) return download_failure(key, piece.error());
    if (!*piece) break;
    if (req.cancelled && req.cancelled()) return restore_error{"cancelled"};
    downloaded += (*piece)->size();
    auto fed = lz4.feed(**piece, write);
    if (!written) return restore_error{"cannot write " + image.path + ": " + std::strerror(errno)};
    if (!fed) return restore_error{key + ": " + fed.error().message};
  }
  if (auto ended = lz4.finish(); !ended) return restore_error{key + ": " + ended.error().message};
  return read_page_size(image, offset);
}

// Applies the whole transactions of one segment that lie after `r.at` and within the target.
step_result apply_segment(const replica::wal_segment& seg, image_file& image, replay& r) {
  const auto header = seg.parsed_header();
  if (header.page_size != image.page_size)
    return restore_error{"a WAL segment's page size differs from the snapshot's"};
  if (seg.index == r.at.index + 1 && seg.prev_index_frames != r.at.frame)
    return restore_error{"WAL index " + std::to_string(r.at.index) + " ended at frame " +
                         std::to_string(seg.prev_index_frames) + " but the replica holds it only up to frame " +
                         std::to_string(r.at.frame)};
  std::vector<std::pair<std::uint32_t, std::string_view>> txn;
  std::size_t commit = 0;
  for (std::uint32_t i = 0; i < seg.frame_count() && !r.finished; ++i) {
    const std::string_view frame =
        std::string_view(seg.frames).substr(std::size_t(i) * header.frame_size(), header.frame_size());
    const auto f = wal::parse_frame_header(reinterpret_cast<const unsigned char*>(frame.data()));
    const position here{seg.index, seg.first_frame + i};
    if (here > r.at) txn.emplace_back(f.page_number, frame.substr(wal::frame_header_size));
    if (!f.is_commit()) continue;
    const std::int64_t time = seg.commit_times_ms[commit++];
    if (here <= r.at) continue;
    if (r.until_ms && time > *r.until_ms) {
      r.finished = true;
      return {};
    }
    for (const auto& [page, bytes] : txn)
      if (!image.write_at(std::uint64_t(page - 1) * image.page_size, bytes))
        return restore_error{"cannot write " + image.path};
    txn.clear();
    image.pages = f.db_size_after_commit;
    r.at = here, r.last_time_ms = time;
    if (r.stop_at && r.at >= *r.stop_at) r.finished = true;
  }
  return {};
}

step_result check_integrity(const std::string& path) {
  sqlite3* db = nullptr;
  std::string verdict;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    // Reading through a memory map is a quarter faster than a pread per page for a full check.
    sqlite3_exec(db, "PRAGMA mmap_size = 17179869184", nullptr, nullptr, nullptr);
    sqlite3_exec(
        db, "PRAGMA integrity_check",
        [](void* out, int, char** values, char**) {
          auto& v = *static_cast<std::string*>(out);
          v += (v.empty() ? "" : "; ") + std::string(values[0] ? values[0] : "");
          return 0;
        },
        &verdict, nullptr);
  } else {
    verdict = sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  std::error_code ec;
  fs::remove(path + "-wal", ec), fs::remove(path + "-shm", ec);
  if (verdict == "ok") return {};
  return restore_error{"the restored database fails PRAGMA integrity_check: " + verdict.substr(0, 500)};
}

}  // namespace

namespace {

bool cancelled(const restore_request& req) { return req.cancelled && req.cancelled(); }
const char* const cancelled_message = "cancelled";

std::string megabytes(std::uint64_t bytes) {
  return std::to_string(bytes / 1048576) + "." + std::to_string(bytes % 1048576 * 10 / 1048576) + " MB";
}

// How many WAL segments may wait downloaded ahead of the one being applied: as many as fit in
// 64 MiB (by the largest), at least one, at most two per download thread.
std::size_t segment_window(const replica::restore_plan& plan, unsigned parallelism) {
  constexpr std::uint64_t budget = std::uint64_t{64} << 20;
  std::uint64_t largest = 1;
  for (const auto& s : plan.segments)
    largest = std::max(largest, s.size);
  return static_cast<std::size_t>(std::clamp<std::uint64_t>(budget / largest, 1, 2 * std::uint64_t(parallelism)));
}

// Downloads and applies the plan into `image`; fills `report`.
step_result rebuild(object_store& store, const replica::restore_plan& plan, const restore_request& req,
                    image_file& image, restore_report& report) {
  std::vector<std::string> keys;
  for (const auto& s : plan.segments)
    keys.push_back(s.key);
  if (cancelled(req)) return restore_error{cancelled_message};
  // WAL segments download in parallel meanwhile, held ahead of their turn up to a byte budget.
  ordered_fetcher fetcher(store, keys, req.parallelism, segment_window(plan, req.parallelism));
  if (auto written = write_snapshot(store, plan.snapshot.key, req, image, report.bytes_downloaded); !written)
    return written;
  replay r{plan.snapshot.at, plan.snapshot.time_ms, req.timestamp_ms, req.stop_at, false};
  if (r.stop_at && r.at >= *r.stop_at) r.finished = true;
  for (std::size_t i = 0; i < plan.segments.size() && !r.finished; ++i) {
    if (cancelled(req)) return restore_error{cancelled_message};
    auto bytes = fetcher.next();
    if (!bytes) return download_failure(plan.segments[i].key, bytes.error());
    report.bytes_downloaded += bytes->size();
    auto raw = replica::lz4::decompress(*bytes);
    auto seg = raw ? replica::decode_segment(*raw) : proto::result<replica::wal_segment>(raw.error());
    if (!seg) return restore_error{plan.segments[i].key + ": " + seg.error().message};
    if (auto applied = apply_segment(*seg, image, r); !applied)
      return restore_error{plan.segments[i].key + ": " + applied.error().message};
    ++report.segments;
    if (req.progress && (i + 1) % 100 == 0)
      req.progress("applied " + std::to_string(i + 1) + "/" + std::to_string(plan.segments.size()) + " WAL segments (" +
                   megabytes(report.bytes_downloaded) + " downloaded)");
  }
  if (cancelled(req)) return restore_error{cancelled_message};
  if (::ftruncate(image.fd, off_t(image.pages) * image.page_size) != 0 || ::fsync(image.fd) != 0)
    return restore_error{"cannot write " + image.path + ": " + std::strerror(errno)};
  report.at = r.at, report.time_ms = r.last_time_ms;
  report.db_bytes = std::uint64_t(image.pages) * image.page_size;
  return {};
}

// Moves the checked file into place; never replaces a file that appeared meanwhile.
step_result move_into_place(const std::string& temp, const std::string& output) {
  if (::renameat2(AT_FDCWD, temp.c_str(), AT_FDCWD, output.c_str(), RENAME_NOREPLACE) != 0)
    return restore_error{"cannot move the restored database to " + output + ": " + std::strerror(errno)};
  const auto folder = fs::path(output).parent_path();
  const int dir = ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir >= 0) ::fsync(dir), ::close(dir);
  return {};
}

}  // namespace

std::string restore_temp_path(const std::string& output) { return output + ".restoring-" + std::to_string(::getpid()); }

restore_result restore(object_store& unreliable_store, const restore_request& req) {
  retry_policy policy = req.retry;
  if (!policy.on_retry && req.progress)
    policy.on_retry = [&req](const store_error& e, unsigned attempt) {
      req.progress("retrying after attempt " + std::to_string(attempt) + " failed: " + e.message);
    };
  if (!policy.stop_retrying) policy.stop_retrying = req.cancelled;
  retrying_store store(unreliable_store, std::move(policy));
  restore_report report;
  std::error_code ec;
  if (!req.dry_run && fs::exists(req.output, ec)) {
    if (req.if_db_not_exists) return report.outcome = restore_outcome::output_exists, report;
    return fail(req.output + " already exists; restore never overwrites a database (choose another -o)");
  }
  auto catalog = read_catalog(store);
  if (!catalog) return fail("cannot list " + store.describe() + ": " + catalog.error().message);
  if (catalog->empty() && req.if_replica_exists) return report.outcome = restore_outcome::replica_empty, report;
  auto plan = replica::plan_restore(*catalog, {req.generation, req.timestamp_ms, req.stop_at});
  if (!plan) return fail(plan.error());
  report.generation = plan->generation;
  report.plan = *plan;
  if (req.dry_run) return report.outcome = restore_outcome::planned, report;
  if (req.progress)
    req.progress("restoring generation " + plan->generation + ": snapshot of " +
                 replica::layout::rfc3339_time(plan->snapshot.time_ms) + " and " +
                 std::to_string(plan->segments.size()) + " WAL segments");
  const auto folder = fs::path(req.output).parent_path();
  if (!folder.empty()) fs::create_directories(folder, ec);
  image_file image;
  image.path = restore_temp_path(req.output);
  image.fd = ::open(image.path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (image.fd < 0) return fail("cannot create " + image.path + ": " + std::strerror(errno));
  auto done = rebuild(store, *plan, req, image, report);
  if (done) done = check_integrity(image.path);
  if (done && cancelled(req)) done = restore_error{cancelled_message};
  if (done) done = move_into_place(image.path, req.output);
  if (!done) {
    fs::remove(image.path, ec);
    return done.error();
  }
  return report;
}

}  // namespace monolite::replica
