#include "move/portability.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "support/temp_dir.hpp"

using namespace monolite;

namespace {

std::string write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  return path.string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(move_statement_log)

BOOST_AUTO_TEST_CASE(lines_become_statements_and_blank_lines_are_skipped) {
  monolite::test::temp_dir dir;
  const auto path = write_file(dir.path() / "log",
                               "{\"sql\":\"SELECT ?\",\"count\":3,\"first_seen\":10,\"last_seen\":20}\n\n"
                               "{\"sql\":\"DELETE FROM t\",\"count\":1,\"first_seen\":11,\"last_seen\":11}\n");
  const auto statements = move::read_statement_log(path);
  BOOST_TEST_REQUIRE(statements.has_value());
  BOOST_TEST_REQUIRE(statements->size() == 2U);
  BOOST_TEST((*statements)[0].sql == "SELECT ?");
  BOOST_TEST((*statements)[0].count == 3U);
  BOOST_TEST((*statements)[0].first_seen == 10);
  BOOST_TEST((*statements)[1].last_seen == 11);
}

BOOST_AUTO_TEST_CASE(a_line_that_is_not_a_statement_is_named_by_its_number) {
  monolite::test::temp_dir dir;
  const auto path = write_file(dir.path() / "log", "{\"sql\":\"SELECT 1\",\"count\":1}\n{\"count\":2}\n");
  const auto statements = move::read_statement_log(path);
  BOOST_TEST_REQUIRE(!statements.has_value());
  BOOST_TEST(statements.error().find(path + ":2:") == 0U);
  const auto missing = move::read_statement_log((dir.path() / "nope").string());
  BOOST_TEST_REQUIRE(!missing.has_value());
  BOOST_TEST(missing.error().find("cannot open") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
