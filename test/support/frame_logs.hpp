// Helpers of the frame_log tests (test/replica/frame_log*_test.cpp): a fixture owning a temporary
// database path, commits whose pages name their frames, and checked reads.
#pragma once
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "replica/frame_log.hpp"
#include "support/temp_dir.hpp"

namespace monolite::test::frame_logs {

namespace fs = std::filesystem;
namespace replica = monolite::replica;
using replica::frame_in;

inline constexpr std::uint32_t page_size = 512;
inline constexpr std::size_t record_size = replica::frame_log::header_size + page_size;
inline const replica::db_fingerprint fingerprint{11, 4096, 1'700'000'000'000'000'000, 8272, 1'700'000'000'500'000'000};
inline const replica::db_fingerprint other_fingerprint{11, 4096, 1'700'000'000'000'000'000, 0, 0};

template <class T>
T require(monolite::proto::result<T> result) {
  BOOST_REQUIRE_MESSAGE(result.has_value(), result.error().message);
  return std::move(*result);
}
inline void require(monolite::proto::result<void> result) {
  BOOST_REQUIRE_MESSAGE(result.has_value(), result.error().message);
}

// The error of a call that must fail, and its message contains `words`.
template <class T>
monolite::proto::api_error require_error(const monolite::proto::result<T>& result, const std::string& words) {
  BOOST_REQUIRE(result.has_error());
  BOOST_TEST_MESSAGE(result.error().message);
  BOOST_TEST(result.error().message.find(words) != std::string::npos, result.error().message);
  return result.error();
}

// The byte each page of frame `frame_no` is filled with (so a page read back names its frame).
inline char fill_of(std::uint64_t frame_no) { return static_cast<char>('A' + frame_no % 50); }

// A commit of `count` frames whose pages hold fill_of() of the frame numbers they will get.
struct test_commit {
  std::vector<std::string> pages;
  std::vector<frame_in> frames;
  test_commit(std::uint64_t first_frame, std::size_t count, std::size_t size = page_size) {
    for (std::size_t i = 0; i < count; ++i)
      pages.emplace_back(size, fill_of(first_frame + i));
    for (std::size_t i = 0; i < count; ++i)
      frames.push_back({static_cast<std::uint32_t>(i + 1), i + 1 == count ? 100u : 0u, pages[i]});
  }
};

struct record {
  std::uint64_t frame_no;
  std::uint32_t page_no, size_after;
  std::string page;
};

inline std::vector<record> records_of(const std::string& bytes) {
  BOOST_REQUIRE_EQUAL(bytes.size() % record_size, 0u);
  std::vector<record> out;
  for (std::size_t at = 0; at < bytes.size(); at += record_size) {
    auto le = [&](std::size_t offset, int width) {
      std::uint64_t v = 0;
      for (int i = width - 1; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(bytes[at + offset + i]);
      return v;
    };
    out.push_back({le(0, 8), static_cast<std::uint32_t>(le(8, 4)), static_cast<std::uint32_t>(le(12, 4)),
                   bytes.substr(at + 16, page_size)});
  }
  return out;
}

struct log_fixture {
  monolite::test::temp_dir dir;
  std::string db = dir.file("app.db");
  std::string log_dir = db + "-replog";
  replica::frame_log_options options{page_size, 4};

  replica::frame_log open(const replica::db_fingerprint& now = fingerprint) {
    return require(replica::frame_log::open(db, options, now));
  }
  static replica::frame_range append(replica::frame_log& log, std::size_t count) {
    const test_commit commit(log.next_frame_no(), count);
    return require(log.append(commit.frames));
  }
  // Reads everything from `from` and checks every record is the frame it should be.
  static std::vector<record> read_checked(const replica::frame_log& log, std::uint64_t from, std::size_t max = 1000) {
    std::string bytes;
    const std::size_t count = require(log.read(from, max, bytes));
    auto records = records_of(bytes);
    BOOST_REQUIRE_EQUAL(records.size(), count);
    for (std::size_t i = 0; i < records.size(); ++i) {
      BOOST_TEST(records[i].frame_no == from + i);
      BOOST_TEST((records[i].page == std::string(page_size, fill_of(from + i))));
    }
    return records;
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(log_dir))
      out.push_back(entry.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string segment(std::uint64_t first) const {
    const std::string digits = std::to_string(first);
    return log_dir + "/seg-" + std::string(20 - digits.size(), '0') + digits;
  }
};

inline void write_file(const std::string& path, const std::string& bytes, std::ios::openmode mode = std::ios::trunc) {
  std::ofstream(path, std::ios::binary | mode) << bytes;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace monolite::test::frame_logs
