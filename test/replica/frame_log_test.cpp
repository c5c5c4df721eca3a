// frame_log: the primary's replication log on disk — numbering, segments, the clean/dirty rule
// across reopenings and trimming. Its error paths: frame_log_errors_test.cpp.
#include <fcntl.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <functional>

#include "support/frame_logs.hpp"

using namespace monolite::test::frame_logs;
using replica::log_opening;

BOOST_FIXTURE_TEST_SUITE(frame_log, log_fixture)

BOOST_AUTO_TEST_CASE(first_open_creates_the_log_and_a_generation) {
  auto log = open();
  BOOST_TEST((log.opening() == log_opening::created));
  BOOST_TEST(log.directory() == log_dir);
  BOOST_TEST(log.log_id().size() == 36u);
  BOOST_TEST(log.log_id()[14] == '4');  // UUID version 4
  BOOST_TEST(log.generation_id().size() == 36u);
  BOOST_TEST(log.generation_id() != log.log_id());
  BOOST_TEST(log.generation_start() == 0u);
  BOOST_TEST(log.next_frame_no() == 0u);
  BOOST_TEST(log.first_frame_no() == 0u);
  BOOST_TEST(log.page_size() == page_size);
  BOOST_TEST(log.bytes_on_disk() == 0u);
  BOOST_TEST((files() == std::vector<std::string>{"meta"}));
  const std::string meta = read_file(log_dir + "/meta");
  BOOST_TEST(meta.find(log.log_id()) != std::string::npos);
  BOOST_TEST(meta.find("clean") == std::string::npos);
  BOOST_TEST(read_checked(log, 0).empty());
}

BOOST_AUTO_TEST_CASE(appended_frames_read_back_with_their_pages) {
  auto log = open();
  const auto first = append(log, 3);
  const auto second = append(log, 2);
  BOOST_TEST(first.first == 0u);
  BOOST_TEST(first.next == 3u);
  BOOST_TEST(second.first == 3u);
  BOOST_TEST(second.next == 5u);
  BOOST_TEST(log.next_frame_no() == 5u);
  const auto all = read_checked(log, 0);
  BOOST_REQUIRE_EQUAL(all.size(), 5u);
  BOOST_TEST(all[0].page_no == 1u);
  BOOST_TEST(all[0].size_after == 0u);
  BOOST_TEST(all[2].size_after == 100u);  // the first commit's end
  BOOST_TEST(all[4].page_no == 2u);
  BOOST_TEST(read_checked(log, 2, 2).size() == 2u);  // a read may split a commit
  BOOST_TEST(read_checked(log, 4, 10).size() == 1u);
  BOOST_TEST(read_checked(log, 5).empty());
  BOOST_TEST(log.bytes_on_disk() == 5 * record_size);
}

BOOST_AUTO_TEST_CASE(a_commit_bigger_than_the_write_buffer_is_written_in_pieces) {
  auto log = open();
  append(log, 1);
  BOOST_TEST(append(log, 2500).next == 2501u);  // 1.3 MB of records: past the 1 MiB buffer
  BOOST_TEST(fs::file_size(segment(0)) == 2501 * record_size);
  const auto all = read_checked(log, 0, 5000);
  BOOST_REQUIRE_EQUAL(all.size(), 2501u);
  BOOST_TEST(all.back().size_after == 100u);
  BOOST_TEST(all.back().page_no == 2500u);
}

BOOST_AUTO_TEST_CASE(segments_rotate_only_at_commit_boundaries) {
  auto log = open();  // segments of 4 frames
  for (std::size_t count : {3, 3, 1, 5, 2})
    append(log, count);
  // 3+3 (the second commit overruns), then 1+5, then 2: every segment starts a commit.
  BOOST_TEST((files() == std::vector<std::string>{"meta", "seg-00000000000000000000", "seg-00000000000000000006",
                                                  "seg-00000000000000000012"}));
  BOOST_TEST(fs::file_size(segment(0)) == 6 * record_size);
  BOOST_TEST(fs::file_size(segment(6)) == 6 * record_size);
  BOOST_TEST(fs::file_size(segment(12)) == 2 * record_size);
  BOOST_TEST(read_checked(log, 0).size() == 14u);
  BOOST_TEST(read_checked(log, 5, 3).size() == 3u);  // across a segment boundary
  BOOST_TEST(log.bytes_on_disk() == 14 * record_size);
}

BOOST_AUTO_TEST_CASE(a_clean_close_with_the_same_files_continues_the_generation) {
  std::string log_id, generation_id;
  {
    auto log = open();
    append(log, 3), append(log, 2);
    log_id = log.log_id(), generation_id = log.generation_id();
    require(log.close(fingerprint));
    BOOST_TEST(read_file(log_dir + "/meta").find("clean 5 ") != std::string::npos);
  }
  auto log = open();
  BOOST_TEST((log.opening() == log_opening::continued));
  BOOST_TEST(log.log_id() == log_id);
  BOOST_TEST(log.generation_id() == generation_id);
  BOOST_TEST(log.generation_start() == 0u);
  BOOST_TEST(log.next_frame_no() == 5u);
  BOOST_TEST(read_file(log_dir + "/meta").find("clean") == std::string::npos);  // a crash now is seen next time
  BOOST_TEST(append(log, 2).first == 5u);
  BOOST_TEST(read_checked(log, 0).size() == 7u);
}

BOOST_AUTO_TEST_CASE(changed_database_files_start_a_new_generation) {
  std::string log_id, generation_id;
  {
    auto log = open();
    append(log, 3), append(log, 3);
    log_id = log.log_id(), generation_id = log.generation_id();
    require(log.close(fingerprint));
  }
  auto log = open(other_fingerprint);
  BOOST_TEST((log.opening() == log_opening::new_generation));
  BOOST_TEST(log.opening_reason().find("changed") != std::string::npos);
  BOOST_TEST(log.log_id() == log_id);
  BOOST_TEST(log.generation_id() != generation_id);
  BOOST_TEST(log.generation_start() == 6u);
  BOOST_TEST(log.next_frame_no() == 6u);
  BOOST_TEST(log.first_frame_no() == 6u);
  BOOST_TEST((files() == std::vector<std::string>{"meta"}));
  std::string out;
  BOOST_TEST(require_error(log.read(0, 10, out), "gone").code == replica::need_snapshot_code);
  BOOST_TEST(append(log, 1).first == 6u);
  BOOST_TEST(read_checked(log, 6).size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_log_never_closed_starts_a_new_generation) {
  std::string generation_id;
  {
    auto log = open();
    append(log, 4), append(log, 1);
    generation_id = log.generation_id();
  }  // destroyed without close(), as in a crash
  auto log = open();
  BOOST_TEST((log.opening() == log_opening::new_generation));
  BOOST_TEST(log.opening_reason() == "the log was not closed cleanly");
  BOOST_TEST(log.generation_id() != generation_id);
  BOOST_TEST(log.next_frame_no() == 5u);
  BOOST_TEST(log.bytes_on_disk() == 0u);
  // Continuing and then dying is just as unclean.
  require(log.close(fingerprint));
  { auto continued = open(); }
  BOOST_TEST((open().opening() == log_opening::new_generation));
}

BOOST_AUTO_TEST_CASE(a_torn_last_record_is_cut_off) {
  {
    auto log = open();
    append(log, 3);
    require(log.close(fingerprint));
  }
  write_file(segment(0), std::string(100, 'x'), std::ios::app);
  {
    auto log = open();
    BOOST_TEST((log.opening() == log_opening::continued));
    BOOST_TEST(fs::file_size(segment(0)) == 3 * record_size);
    BOOST_TEST(append(log, 1).first == 3u);
    BOOST_TEST(read_checked(log, 0).size() == 4u);
  }  // a crash: the new generation starts after the last whole record
  write_file(segment(0), std::string(record_size - 1, 'x'), std::ios::app);
  auto log = open();
  BOOST_TEST((log.opening() == log_opening::new_generation));
  BOOST_TEST(log.next_frame_no() == 4u);
}

BOOST_AUTO_TEST_CASE(damaged_segments_after_a_clean_close_start_a_new_generation) {
  struct damage {
    std::string name;
    std::function<void(const log_fixture&)> apply;
    std::string reason;
  };
  const std::vector<damage> damages = {
      {"gap", [](const log_fixture& f) { fs::remove(f.segment(4)); }, "leaves a gap"},
      {"partial", [](const log_fixture& f) { fs::resize_file(f.segment(0), record_size * 4 - 1); }, "partial record"},
      {"short", [](const log_fixture& f) { fs::remove(f.segment(8)); }, "segments end at frame 8"},
      {"not a commit", [](const log_fixture& f) { fs::resize_file(f.segment(8), record_size * 2); }, "not the commit"},
  };
  for (const auto& d : damages) {
    BOOST_TEST_CONTEXT(d.name) {
      fs::remove_all(log_dir);
      {
        auto log = open();
        append(log, 4), append(log, 4), append(log, 3);
        require(log.close(fingerprint));
      }
      d.apply(*this);
      auto log = open();
      BOOST_TEST((log.opening() == log_opening::new_generation));
      BOOST_TEST(log.opening_reason().find(d.reason) != std::string::npos, log.opening_reason());
      BOOST_TEST(log.bytes_on_disk() == 0u);
      BOOST_TEST(log.next_frame_no() >= 8u);
    }
  }
}

BOOST_AUTO_TEST_CASE(an_unreadable_meta_starts_over_with_a_new_log_id) {
  const std::vector<std::pair<std::string, std::string>> metas = {
      {"garbage\n", "not a frame log's"},
      {"monolite-replog 2\n", "meta version 2"},
      {"monolite-replog 1\npage_size 512\nlog_id nope\n", "'log_id' does not parse"},
      {"monolite-replog 1\npage_size 512\nend\n", "incomplete"},
      {"", "not a frame log's"},
  };
  for (const auto& [meta, reason] : metas) {
    BOOST_TEST_CONTEXT(meta) {
      std::string log_id;
      {
        auto log = open();
        append(log, 2);
        log_id = log.log_id();
        require(log.close(fingerprint));
      }
      write_file(log_dir + "/meta", meta);
      auto log = open();
      BOOST_TEST((log.opening() == log_opening::started_over));
      BOOST_TEST(log.opening_reason().find(reason) != std::string::npos, log.opening_reason());
      BOOST_TEST(log.log_id() != log_id);
      BOOST_TEST(log.next_frame_no() == 0u);
      BOOST_TEST((files() == std::vector<std::string>{"meta"}));
    }
  }
}

BOOST_AUTO_TEST_CASE(another_page_size_starts_over) {
  std::string log_id;
  {
    auto log = open();
    append(log, 2);
    log_id = log.log_id();
    require(log.close(fingerprint));
  }
  options.page_size = 1024;
  auto log = open();
  BOOST_TEST((log.opening() == log_opening::started_over));
  BOOST_TEST(log.opening_reason() == "the log holds pages of 512 bytes, not 1024");
  BOOST_TEST(log.log_id() != log_id);
  BOOST_TEST(log.page_size() == 1024u);
  BOOST_TEST(log.next_frame_no() == 0u);
  BOOST_TEST((files() == std::vector<std::string>{"meta"}));
}

BOOST_AUTO_TEST_CASE(trim_by_bytes_keeps_the_current_segment_and_a_commit_boundary) {
  auto log = open();
  for (std::size_t count : {3, 3, 1, 5, 2})
    append(log, count);  // segments [0, 6) [6, 12) [12, 14)
  const auto now = std::chrono::system_clock::now();
  require(log.trim(0, std::chrono::seconds(0), now));  // no limits: nothing goes
  BOOST_TEST(log.first_frame_no() == 0u);
  require(log.trim(12 * record_size, std::chrono::seconds(0), now));
  BOOST_TEST(log.first_frame_no() == 6u);
  BOOST_TEST(log.bytes_on_disk() == 8 * record_size);
  BOOST_TEST(!fs::exists(segment(0)));
  require(log.trim(1, std::chrono::seconds(0), now));  // over any limit, the current segment stays
  BOOST_TEST(log.first_frame_no() == 12u);
  BOOST_TEST(read_checked(log, 12).front().size_after == 0u);  // a commit's first frame
  std::string out;
  BOOST_TEST(require_error(log.read(11, 1, out), "the log starts at 12").code == replica::need_snapshot_code);
  require(log.close(fingerprint));
  auto reopened = open();
  BOOST_TEST((reopened.opening() == log_opening::continued));
  BOOST_TEST(reopened.first_frame_no() == 12u);
  BOOST_TEST(reopened.next_frame_no() == 14u);
}

BOOST_AUTO_TEST_CASE(trim_by_age_uses_the_segments_mtimes) {
  auto log = open();
  for (std::size_t count : {4, 4, 4, 1})
    append(log, count);  // segments at 0, 4, 8, 12
  const auto now = std::chrono::system_clock::now();
  auto age = [&](std::uint64_t first, std::chrono::seconds ago) {
    const auto when = std::chrono::duration_cast<std::chrono::seconds>((now - ago).time_since_epoch()).count();
    const timespec times[2] = {{when, 0}, {when, 0}};
    BOOST_REQUIRE(::utimensat(AT_FDCWD, segment(first).c_str(), times, 0) == 0);
  };
  age(0, std::chrono::hours(3)), age(4, std::chrono::hours(2)), age(8, std::chrono::minutes(10));
  require(log.trim(0, std::chrono::hours(1), now));
  BOOST_TEST(log.first_frame_no() == 8u);
  age(8, std::chrono::hours(5)), age(12, std::chrono::hours(5));
  require(log.trim(0, std::chrono::hours(1), now));
  BOOST_TEST(log.first_frame_no() == 12u);  // old too, but it is being written
  BOOST_TEST(read_checked(log, 12).size() == 1u);
}

BOOST_AUTO_TEST_CASE(reads_before_the_log_or_past_its_end_are_told_apart) {
  auto log = open();
  append(log, 2);
  std::string out;
  const auto ahead = require_error(log.read(3, 1, out), "ahead of the log");
  BOOST_TEST(ahead.code == replica::ahead_of_log_code);
  BOOST_TEST(ahead.status == 400u);
  require(log.start_new_generation());
  const auto gone = require_error(log.read(1, 1, out), "gone");
  BOOST_TEST(gone.code == replica::need_snapshot_code);
  BOOST_TEST(gone.status == 410u);
  BOOST_TEST(out.empty());
}

BOOST_AUTO_TEST_CASE(start_new_generation_drops_the_frames_and_keeps_numbering) {
  auto log = open();
  append(log, 4), append(log, 2);
  const std::string log_id = log.log_id(), generation_id = log.generation_id();
  require(log.start_new_generation());
  BOOST_TEST(log.log_id() == log_id);
  BOOST_TEST(log.generation_id() != generation_id);
  BOOST_TEST(log.generation_start() == 6u);
  BOOST_TEST(log.first_frame_no() == 6u);
  BOOST_TEST((files() == std::vector<std::string>{"meta"}));
  BOOST_TEST(read_file(log_dir + "/meta").find(log.generation_id()) != std::string::npos);
  BOOST_TEST(append(log, 1).first == 6u);
  require(log.close(fingerprint));
  auto reopened = open();
  BOOST_TEST((reopened.opening() == log_opening::continued));
  BOOST_TEST(reopened.generation_start() == 6u);
  BOOST_TEST(read_checked(reopened, 6).size() == 1u);
}

BOOST_AUTO_TEST_CASE(fingerprint_of_stats_the_database_and_its_wal) {
  BOOST_TEST((replica::fingerprint_of(db) == replica::db_fingerprint{}));  // neither exists
  write_file(db, std::string(4096, 'd'));
  const auto db_only = replica::fingerprint_of(db);
  struct stat st {};
  BOOST_REQUIRE(::stat(db.c_str(), &st) == 0);
  BOOST_TEST(db_only.db_inode == st.st_ino);
  BOOST_TEST(db_only.db_size == 4096u);
  BOOST_TEST(db_only.db_mtime_ns == std::int64_t(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec);
  BOOST_TEST(db_only.wal_size == 0u);
  BOOST_TEST(db_only.wal_mtime_ns == 0);
  write_file(db + "-wal", std::string(100, 'w'));
  const auto with_wal = replica::fingerprint_of(db);
  BOOST_TEST(with_wal.wal_size == 100u);
  BOOST_TEST(with_wal.wal_mtime_ns > 0);
  const timespec times[2] = {{1000, 0}, {1000, 5}};
  BOOST_REQUIRE(::utimensat(AT_FDCWD, db.c_str(), times, 0) == 0);
  BOOST_TEST(replica::fingerprint_of(db).db_mtime_ns == 1'000'000'000'005);
  BOOST_TEST((replica::fingerprint_of(db) != with_wal));
}

BOOST_AUTO_TEST_SUITE_END()
