#include "replica/verify.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <thread>
#include <vector>

#include "db/db_image.hpp"
#include "db/wal_tail.hpp"
#include "replica/format/lz4.hpp"
#include "replica/format/wal_segment.hpp"
#include "replica/resume.hpp"

namespace monolite::replica {
namespace {
namespace fs = std::filesystem;
using layout::position;

// An image's SHA-256 and a short hash of each page (to name the first page that differs).
struct image_digest {
  image_summary summary;
  std::vector<std::size_t> page_hashes;
};

// The page size from the database header at the start of page 1 (0 if too short).
std::uint32_t header_page_size(std::string_view first_pages) {
  if (first_pages.size() < 100) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(first_pages.data());
  const std::uint32_t size = (std::uint32_t(p[16]) << 8) | p[17];
  return size == 1 ? 65536 : size;
}

// The database image as of `wal_frames`, digested.
proto::result<image_digest> digest_image(const std::string& path, std::uint32_t wal_frames) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  image_digest out;
  std::uint32_t page_size = 0;
  auto read = db::read_image(path, wal_frames, [&](std::string_view pages) {
    EVP_DigestUpdate(ctx.get(), pages.data(), pages.size());
    if (page_size == 0) page_size = header_page_size(pages);
    for (std::size_t at = 0; page_size > 0 && at < pages.size(); at += page_size)
      out.page_hashes.push_back(std::hash<std::string_view>{}(pages.substr(at, page_size)));
  });
  if (!read) return read.error();
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  for (unsigned i = 0; i < length; ++i) {
    static const char* digits = "0123456789abcdef";
    out.summary.sha256 += digits[digest[i] >> 4], out.summary.sha256 += digits[digest[i] & 15];
  }
  out.summary.page_size = read->page_size, out.summary.pages = read->pages;
  return out;
}

bool is_cancelled(const verify_options& options) { return options.cancelled && options.cancelled(); }

// The replica position equal to the live WAL's last commit: the newest segment must carry the
// live WAL's header; waits (polling) for the replica to catch up.
boost::system::result<position, restore_error> replica_position_of(object_store& store, const db::wal_tail& live,
                                                                   const verify_options& options) {
  const auto deadline = std::chrono::steady_clock::now() + options.wait;
  for (;; std::this_thread::sleep_for(std::chrono::milliseconds(100))) {
    if (is_cancelled(options)) return restore_error{"cancelled"};
    auto catalog = read_catalog(store);
    if (!catalog) return restore_error{catalog.error().message};
    if (!catalog->empty() && (!live.header() || live.position().frame == 0))
      return catalog->back().end();  // no live WAL frames
    if (!catalog->empty() && !catalog->back().segments.empty()) {
      const auto& last = catalog->back().segments.back();
      auto bytes = store.get(last.key);
      // Waiting cannot help an object that fails to open (a key missing, tampering).
      if (!bytes && bytes.error().kind == store_failure::other) return restore_error{bytes.error().message};
      auto raw = bytes ? lz4::decompress(*bytes) : proto::result<std::string>(proto::internal_error("unreadable"));
      auto seg = raw ? decode_segment(*raw) : proto::result<wal_segment>(raw.error());
      const auto& h = live.header();
      if (seg && seg->parsed_header().salt1 == h->salt1 && seg->parsed_header().salt2 == h->salt2 &&
          last.last_frame >= live.position().frame)
        return position{last.index, live.position().frame};
    }
    if (std::chrono::steady_clock::now() > deadline) {
      return restore_error{"the replica has not caught up with the live database within the wait"};
    }
  }
}

std::optional<std::uint32_t> first_difference(const image_digest& a, const image_digest& b) {
  if (a.summary.sha256 == b.summary.sha256) return std::nullopt;
  const std::size_t common = std::min(a.page_hashes.size(), b.page_hashes.size());
  for (std::size_t i = 0; i < common; ++i)
    if (a.page_hashes[i] != b.page_hashes[i]) return static_cast<std::uint32_t>(i + 1);
  return static_cast<std::uint32_t>(common + 1);
}

// Restores the replica at exactly `at` into the scratch path and digests it; the scratch is
// removed whatever happens.
boost::system::result<std::pair<std::string, image_digest>, restore_error> restore_and_digest(
    object_store& store, const verify_options& options, position at) {
  restore_request req;
  fs::path private_folder;
  if (options.scratch.empty()) {
    private_folder = fs::temp_directory_path() / ("monolite-verify-" + std::to_string(::getpid()));
    req.output = (private_folder / "restored.db").string();
  } else {
    req.output = options.scratch;
  }
  remove_verify_scratch(req.output);  // a copy left by a process that died
  req.stop_at = at;
  req.parallelism = options.parallelism;
  req.cancelled = options.cancelled;
  auto restored = restore(store, req);
  auto digest = restored ? digest_image(req.output, 0)
                         : proto::result<image_digest>(proto::internal_error(restored.error().message));
  remove_verify_scratch(req.output);
  std::error_code ec;
  if (!private_folder.empty()) fs::remove_all(private_folder, ec);
  if (!digest) return restore_error{digest.error().message};
  return std::pair{restored->generation, std::move(*digest)};
}

}  // namespace

boost::system::result<verify_report, restore_error> verify_live(object_store& store, const std::string& db_path,
                                                                const verify_options& options) {
  std::optional<db::read_pin> pin;
  if (auto opened = db::read_pin::open(db_path); opened)
    pin.emplace(std::move(*opened));
  else
    return restore_error{opened.error().message};
  db::wal_tail live(db_path);
  auto started = live.start(0);
  if (!started) return restore_error{started.error().message};
  auto at = replica_position_of(store, live, options);
  if (!at) return at.error();
  auto live_digest = digest_image(db_path, live.position().frame);
  if (!live_digest) return restore_error{live_digest.error().message};
  pin.reset();  // the live side is read: checkpoints may go on while the replica is restored
  auto replica_side = restore_and_digest(store, options, *at);
  if (!replica_side) return replica_side.error();
  const auto& [generation, replica_digest] = *replica_side;
  return verify_report{generation, *at, live_digest->summary, replica_digest.summary,
                       first_difference(*live_digest, replica_digest)};
}

void remove_verify_scratch(const std::string& scratch) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    fs::remove(scratch + suffix, ec);
  // Restore's temporary file carries the pid of the process that wrote it: any pid's goes.
  const fs::path path(scratch);
  const std::string prefix = path.filename().string() + ".restoring-";
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->path().filename().string().rfind(prefix, 0) == 0) fs::remove(it->path(), ec);
}

std::string describe_difference(const verify_report& report) {
  if (report.same()) return "the images are the same";
  const auto& live = report.live;
  const auto& replica = report.replica;
  if (live.page_size != replica.page_size)
    return "the live page size is " + std::to_string(live.page_size) + " bytes and the replica's " +
           std::to_string(replica.page_size);
  std::string out;
  if (live.pages != replica.pages)
    out = "the live image has " + std::to_string(live.pages) + " pages and the replica's " +
          std::to_string(replica.pages) + "; ";
  const auto page = report.first_differing_page;
  if (page && *page <= std::min(live.pages, replica.pages))
    out += "page " + std::to_string(*page) + " of " + std::to_string(live.pages) + " is the first that differs";
  if (out.empty()) return "the images differ";
  if (out.ends_with("; ")) out.resize(out.size() - 2);
  return out;
}

}  // namespace monolite::replica
