// frame_log's error paths: bad options and commits, files the log cannot create, read, write,
// rename, sync or delete, and use after close(). Each leaves the log usable where it can be.
#include <sys/resource.h>

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstring>

#include "support/frame_logs.hpp"

using namespace monolite::test::frame_logs;

namespace {

// While it lives, files cannot grow past `bytes`: writes fail with EFBIG (SIGXFSZ is ignored).
class file_size_limit {
 public:
  explicit file_size_limit(rlim_t bytes) {
    BOOST_REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved_) == 0);
    previous_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved_;
    limit.rlim_cur = bytes;
    BOOST_REQUIRE(::setrlimit(RLIMIT_FSIZE, &limit) == 0);
  }
  ~file_size_limit() {
    ::setrlimit(RLIMIT_FSIZE, &saved_);
    std::signal(SIGXFSZ, previous_handler_);
  }
  file_size_limit(const file_size_limit&) = delete;
  file_size_limit& operator=(const file_size_limit&) = delete;

 private:
  rlimit saved_{};
  void (*previous_handler_)(int) = SIG_DFL;
};

// A log of segments [0, 4) [4, 8) [8, 9).
replica::frame_log three_segments(log_fixture& fixture) {
  auto log = fixture.open();
  log_fixture::append(log, 4), log_fixture::append(log, 4), log_fixture::append(log, 1);
  return log;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(frame_log, log_fixture)

BOOST_AUTO_TEST_CASE(bad_options_are_refused) {
  for (std::uint32_t size : {0u, 256u, 1000u, 131072u}) {
    options.page_size = size;
    require_error(replica::frame_log::open(db, options, fingerprint), "is not a power of two in 512..65536");
  }
  options = {page_size, 0};
  require_error(replica::frame_log::open(db, options, fingerprint), "segment_frames must be at least 1");
  BOOST_TEST(!fs::exists(log_dir));
}

BOOST_AUTO_TEST_CASE(malformed_commits_are_refused_and_change_nothing) {
  auto log = open();
  append(log, 2);
  const std::string page(page_size, 'p'), short_page(100, 'p');
  const std::vector<std::pair<std::vector<frame_in>, std::string>> commits = {
      {{}, "an empty commit"},
      {{{1, 5, short_page}}, "frame 0 of the commit has 100 bytes, not 512"},
      {{{0, 5, page}}, "has page number 0"},
      {{{1, 0, page}}, "ends it but has size_after 0"},
      {{{1, 3, page}, {2, 5, page}}, "frame 0 of the commit is not its last but has size_after != 0"},
  };
  for (const auto& [frames, words] : commits)
    require_error(log.append(frames), words);
  BOOST_TEST(log.next_frame_no() == 2u);
  BOOST_TEST(fs::file_size(segment(0)) == 2 * record_size);
  BOOST_TEST(read_checked(log, 0).size() == 2u);
}

BOOST_AUTO_TEST_CASE(a_failed_write_leaves_the_log_as_it_was) {
  auto log = open();
  append(log, 2);
  {
    const file_size_limit limit(3 * record_size + 10);  // room for a part of the next commit only
    const test_commit commit(2, 3);
    require_error(log.append(commit.frames), std::string("cannot write ") + segment(0) + ": " + std::strerror(EFBIG));
  }
  BOOST_TEST(log.next_frame_no() == 2u);
  BOOST_TEST(fs::file_size(segment(0)) == 2 * record_size);  // the partial commit was cut off
  BOOST_TEST(append(log, 3).first == 2u);
  BOOST_TEST(read_checked(log, 0).size() == 5u);
}

BOOST_AUTO_TEST_CASE(a_failed_meta_write_keeps_the_generation) {
  auto log = open();
  append(log, 2);
  const std::string generation_id = log.generation_id();
  {
    const file_size_limit limit(10);
    require_error(log.start_new_generation(), "cannot write " + log_dir + "/meta.tmp");
  }
  BOOST_TEST(log.generation_id() == generation_id);  // what the meta on disk still says
  BOOST_TEST(read_file(log_dir + "/meta").find(generation_id) != std::string::npos);
  BOOST_TEST(log.first_frame_no() == 2u);  // the segments were gone already
  require(log.start_new_generation());
  BOOST_TEST(log.generation_id() != generation_id);
}

BOOST_AUTO_TEST_CASE(open_reports_what_it_cannot_create_or_read) {
  write_file(dir.file("file"), "x");
  require_error(replica::frame_log::open(dir.file("file") + "/app.db", options, fingerprint), "cannot create");
  write_file(log_dir, "not a directory");
  require_error(replica::frame_log::open(db, options, fingerprint), "cannot open " + log_dir + "/meta");
  fs::remove(log_dir);
  fs::create_directories(log_dir + "/meta");
  require_error(replica::frame_log::open(db, options, fingerprint), "cannot read " + log_dir + "/meta");
  fs::remove_all(log_dir);
  fs::create_directories(log_dir + "/meta.tmp");
  require_error(replica::frame_log::open(db, options, fingerprint), "cannot create " + log_dir + "/meta.tmp");
  fs::remove_all(log_dir);
  { auto log = open(); }
  fs::create_directories(segment(0));  // a directory where a segment should be
  require_error(replica::frame_log::open(db, options, fingerprint), "cannot list " + log_dir);
}

BOOST_AUTO_TEST_CASE(a_meta_that_cannot_be_replaced_is_reported) {
  auto log = open();
  fs::remove(log_dir + "/meta");
  fs::create_directories(log_dir + "/meta/inside");
  require_error(log.start_new_generation(), "cannot rename " + log_dir + "/meta.tmp");
  require_error(log.close(fingerprint), "cannot rename " + log_dir + "/meta.tmp");
}

BOOST_AUTO_TEST_CASE(segments_that_cannot_be_deleted_or_created_are_reported) {
  auto log = open();
  fs::create_directories(log_dir + "/seg-junk/inside");
  require_error(log.start_new_generation(), "cannot delete " + log_dir + "/seg-junk");
  fs::remove_all(log_dir + "/seg-junk");
  fs::rename(log_dir, log_dir + ".away");
  require_error(log.start_new_generation(), "cannot list " + log_dir);
  fs::rename(log_dir + ".away", log_dir);
  fs::create_directories(segment(0));
  require_error(log.append(test_commit(0, 1).frames), "cannot create " + segment(0));
  BOOST_TEST(log.next_frame_no() == 0u);
  fs::remove(segment(0));
  BOOST_TEST(append(log, 1).first == 0u);
}

BOOST_AUTO_TEST_CASE(segments_changed_behind_the_logs_back_fail_reads) {
  auto log = three_segments(*this);
  fs::remove(segment(0));
  std::string out;
  require_error(log.read(0, 10, out), "cannot open " + segment(0));
  fs::resize_file(segment(4), record_size);
  require_error(log.read(4, 10, out), "segment " + segment(4) + " is shorter than its 4 frames");
  BOOST_TEST(out.empty());
  BOOST_TEST(read_checked(log, 8).size() == 1u);
}

BOOST_AUTO_TEST_CASE(trim_reports_segments_it_cannot_stat_or_delete) {
  auto log = three_segments(*this);
  const auto now = std::chrono::system_clock::now();
  fs::remove(segment(0));
  require_error(log.trim(0, std::chrono::hours(1), now), "cannot stat " + segment(0));
  fs::create_directory(segment(0));  // unlink() refuses a directory
  require_error(log.trim(1, std::chrono::seconds(0), now), "cannot delete " + segment(0));
  BOOST_TEST(log.first_frame_no() == 0u);
}

BOOST_AUTO_TEST_CASE(close_reports_a_segment_it_cannot_sync) {
  auto log = three_segments(*this);
  fs::remove(segment(4));
  require_error(log.close(fingerprint), "cannot sync " + segment(4));
  BOOST_TEST(read_file(log_dir + "/meta").find("clean") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_closed_log_refuses_to_be_used) {
  auto log = open();
  append(log, 1);
  require(log.close(fingerprint));
  std::string out;
  require_error(log.append(test_commit(1, 1).frames), "used after close()");
  require_error(log.read(0, 1, out), "used after close()");
  require_error(log.trim(1, std::chrono::seconds(0), std::chrono::system_clock::now()), "used after close()");
  require_error(log.start_new_generation(), "used after close()");
  require_error(log.close(fingerprint), "used after close()");
  BOOST_TEST((open().opening() == replica::log_opening::continued));
}

BOOST_AUTO_TEST_SUITE_END()
