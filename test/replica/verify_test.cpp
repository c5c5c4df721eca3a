#include "replica/verify.hpp"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "test/support/temp_dir.hpp"

using namespace monolite::replica;

namespace {

verify_report report_of(image_summary live, image_summary replica, std::optional<std::uint32_t> first = {}) {
  return verify_report{"g", {0, 3}, std::move(live), std::move(replica), first};
}

void touch(const std::string& path) { std::ofstream(path) << "x"; }

}  // namespace

BOOST_AUTO_TEST_SUITE(verify)

BOOST_AUTO_TEST_CASE(a_difference_names_the_first_page_that_differs) {
  const auto r = report_of({"aa", 4096, 12}, {"bb", 4096, 12}, 3u);
  BOOST_TEST(!r.same());
  BOOST_TEST(describe_difference(r) == "page 3 of 12 is the first that differs");
}

BOOST_AUTO_TEST_CASE(a_difference_names_page_counts_and_page_sizes) {
  BOOST_TEST(describe_difference(report_of({"aa", 4096, 12}, {"bb", 4096, 13}, 13u)) ==
             "the live image has 12 pages and the replica's 13");
  BOOST_TEST(describe_difference(report_of({"aa", 4096, 12}, {"bb", 4096, 13}, 5u)) ==
             "the live image has 12 pages and the replica's 13; page 5 of 12 is the first that differs");
  BOOST_TEST(describe_difference(report_of({"aa", 4096, 2}, {"bb", 1024, 8}, 1u)) ==
             "the live page size is 4096 bytes and the replica's 1024");
  BOOST_TEST(describe_difference(report_of({"aa", 4096, 2}, {"aa", 4096, 2})) == "the images are the same");
}

BOOST_AUTO_TEST_CASE(the_scratch_goes_with_its_side_files_and_any_restore_temporary) {
  monolite::test::temp_dir dir;
  const auto scratch = dir.file("app.db.verify");
  for (const auto& name :
       {scratch, scratch + "-wal", scratch + "-shm", scratch + "-journal", scratch + ".restoring-1",
        scratch + ".restoring-99999", dir.file("app.db"), dir.file("app.db-wal"), dir.file("app.db.verifyish")})
    touch(name);
  remove_verify_scratch(scratch);
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path()))
    left.push_back(entry.path().filename().string());
  std::sort(left.begin(), left.end());
  BOOST_TEST(left == (std::vector<std::string>{"app.db", "app.db-wal", "app.db.verifyish"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_missing_scratch_folder_is_not_an_error) {
  BOOST_CHECK_NO_THROW(remove_verify_scratch("/nonexistent-monolite-folder/app.db.verify"));
}

BOOST_AUTO_TEST_SUITE_END()
