#include "replica/verify.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "db/db_image.hpp"
#include "db/wal_tail.hpp"
#include "replica/format/lz4.hpp"
#include "replica/format/wal_segment.hpp"
#include "replica/resume.hpp"

namespace monolite::replica {
namespace {
namespace fs = std::filesystem;
using layout::position;

// SHA-256 of the database image as of `wal_frames` (hex).
proto::result<std::string> image_digest(const std::string& path, std::uint32_t wal_frames) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  auto read = db::read_image(path, wal_frames,
                             [&](std::string_view pages) { EVP_DigestUpdate(ctx.get(), pages.data(), pages.size()); });
  if (!read) return read.error();
  unsigned char digest[32];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  std::string hex;
  for (unsigned i = 0; i < length; ++i) {
    static const char* digits = "0123456789abcdef";
    hex += digits[digest[i] >> 4], hex += digits[digest[i] & 15];
  }
  return hex;
}

// The replica position equal to the live WAL's last commit: the newest segment must carry the
// live WAL's header; waits for the replica to catch up.
boost::system::result<position, restore_error> replica_position_of(object_store& store, const db::wal_tail& live,
                                                                   std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;; std::this_thread::sleep_for(std::chrono::milliseconds(200))) {
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

// Restores the replica at exactly `at` into a temporary folder and digests both images.
boost::system::result<verify_report, restore_error> compare_with_replica(object_store& store,
                                                                         const std::string& db_path,
                                                                         std::uint32_t live_frames, position at) {
  const fs::path temp = fs::temp_directory_path() / ("monolite-verify-" + std::to_string(::getpid()));
  fs::create_directories(temp);
  restore_request req;
  req.output = (temp / "restored.db").string();
  req.stop_at = at;
  auto restored = restore(store, req);
  auto live_digest = image_digest(db_path, live_frames);
  auto replica_digest = restored ? image_digest(req.output, 0)
                                 : proto::result<std::string>(proto::internal_error(restored.error().message));
  std::error_code ec;
  fs::remove_all(temp, ec);
  if (!live_digest) return restore_error{live_digest.error().message};
  if (!replica_digest) return restore_error{replica_digest.error().message};
  return verify_report{restored->generation, at, *live_digest, *replica_digest};
}

}  // namespace

boost::system::result<verify_report, restore_error> verify_live(object_store& store, const std::string& db_path,
                                                                std::chrono::milliseconds wait) {
  auto pin = db::read_pin::open(db_path);
  if (!pin) return restore_error{pin.error().message};
  db::wal_tail live(db_path);
  auto started = live.start(0);
  if (!started) return restore_error{started.error().message};
  auto at = replica_position_of(store, live, wait);
  if (!at) return at.error();
  return compare_with_replica(store, db_path, live.position().frame, *at);
}

}  // namespace monolite::replica
