// `monolite verify`: restore the replica into a temporary folder at the live database's current
// position and compare SHA-256 checksums of the two database images, page for page.
#include <openssl/evp.h>
#include <sqlite3.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "db/db_image.hpp"
#include "db/wal_tail.hpp"
#include "proto/lz4.hpp"
#include "proto/wal_segment.hpp"
#include "replica/restore.hpp"
#include "replica/resume.hpp"
#include "server/config.hpp"
#include "server/replica_commands.hpp"

namespace monolite::cli {
namespace {
namespace fs = std::filesystem;
using proto::layout::position;

const std::vector<option_spec>& verify_specs() {
  static const std::vector<option_spec> table = {
      {"replica", "URL", "the replica to check", ""},
      {"db", "PATH", "the live database (the server may keep running)", "./data/app.db"},
      {"wait", "DURATION", "how long to wait for the replica to catch up with the live database", "30s"},
  };
  return table;
}

// SHA-256 of the database image as of `wal_frames` (hex).
proto::result<std::string> image_digest(const std::string& path, std::uint32_t wal_frames) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  auto read = db::read_image(path, wal_frames, [&](std::string_view pages) {
    EVP_DigestUpdate(ctx.get(), pages.data(), pages.size());
  });
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
std::optional<position> replica_position_of(replica::object_store& store, const db::wal_tail& live,
                                            std::chrono::milliseconds wait, std::string& why) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  for (;; std::this_thread::sleep_for(std::chrono::milliseconds(200))) {
    auto catalog = replica::read_catalog(store);
    if (!catalog) return why = catalog.error().message, std::nullopt;
    if (!catalog->empty() && (!live.header() || live.position().frame == 0)) return catalog->back().end();  // no live WAL frames
    if (!catalog->empty() && !catalog->back().segments.empty()) {
      const auto& last = catalog->back().segments.back();
      auto bytes = store.get(last.key);
      auto raw = bytes ? proto::lz4::decompress(*bytes) : proto::result<std::string>(proto::internal_error("unreadable"));
      auto seg = raw ? proto::decode_segment(*raw) : proto::result<proto::wal_segment>(raw.error());
      const auto& h = live.header();
      if (seg && seg->parsed_header().salt1 == h->salt1 && seg->parsed_header().salt2 == h->salt2 &&
          last.last_frame >= live.position().frame)
        return position{last.index, live.position().frame};
    }
    if (std::chrono::steady_clock::now() > deadline) {
      why = "the replica has not caught up with the live database within the wait";
      return std::nullopt;
    }
  }
}

// Restores the replica at exactly `at` into a temporary folder and compares the two images.
int compare_with_replica(replica::object_store& store, const std::string& db_path, std::uint32_t live_frames,
                         position at) {
  const fs::path temp = fs::temp_directory_path() / ("monolite-verify-" + std::to_string(::getpid()));
  fs::create_directories(temp);
  replica::restore_request req;
  req.output = (temp / "restored.db").string();
  req.stop_at = at;
  auto restored = replica::restore(store, req);
  auto live_digest = image_digest(db_path, live_frames);
  auto replica_digest = restored ? image_digest(req.output, 0)
                                 : proto::result<std::string>(proto::internal_error(restored.error().message));
  std::error_code ec;
  fs::remove_all(temp, ec);
  if (!live_digest || !replica_digest) {
    std::cerr << "monolite: verify failed: "
              << (!live_digest ? live_digest.error().message : replica_digest.error().message) << "\n";
    return 1;
  }
  const bool same = *live_digest == *replica_digest;
  std::cout << (same ? "ok" : "MISMATCH") << ": generation " << restored->generation << " index " << at.index
            << " frame " << at.frame << "\n  live    sha256 " << *live_digest << "\n  replica sha256 "
            << *replica_digest << "\n";
  return same ? 0 : 1;
}

}  // namespace

int run_verify(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (a == "--help" || a == "-h") return std::cout << usage_text("verify", "Checks that a replica restores to exactly the live database.", verify_specs()), 0;
  auto v = resolve_options(verify_specs(), args);
  if (!v) return usage_failure(v.error().message);
  if (v->at("replica").empty()) return usage_failure("verify needs --replica URL");
  auto wait = parse_duration(v->at("wait"), "wait");
  if (!wait) return usage_failure(wait.error().message);
  const std::string db_path = v->at("db");
  auto store = replica::open_store(v->at("replica"));
  if (!store) return std::cerr << "monolite: --replica: " << store.error().message << "\n", 1;
  // A read transaction held for the whole check: no checkpoint can move pages under the copy.
  sqlite3* pin = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &pin, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_exec(pin, "BEGIN; SELECT count(*) FROM sqlite_schema;", nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::cerr << "monolite: cannot open " << db_path << ": " << sqlite3_errmsg(pin) << "\n";
    sqlite3_close(pin);
    return 1;
  }
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> pin_guard(pin, &sqlite3_close);
  db::wal_tail live(db_path);
  std::string why;
  auto started = live.start(0);
  auto at = started ? replica_position_of(**store, live, *wait, why) : std::nullopt;
  if (!started) why = started.error().message;
  if (!at) return std::cerr << "monolite: verify failed: " << why << "\n", 1;
  return compare_with_replica(**store, db_path, live.position().frame, *at);
}

}  // namespace monolite::cli
