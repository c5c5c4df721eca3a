// The statement log's table (counts, times, the bound), its file (merge, atomic replace) and its cost.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "server/statement_log.hpp"
#include "support/temp_dir.hpp"

using namespace monolite;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::unique_ptr<server::statement_log> open_log(const std::string& path, std::size_t limit = 100) {
  auto log = server::statement_log::open(path, limit);
  BOOST_REQUIRE_MESSAGE(log.has_value(), (log ? std::string() : log.error().message));
  return std::move(*log);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(statement_log)

BOOST_AUTO_TEST_CASE(one_entry_per_shape_with_its_count_and_times) {
  server::statement_log log("unused", 100);
  log.record("SELECT * FROM t WHERE id = 5", 100);
  log.record("SELECT *  FROM t WHERE id = 7 -- again", 150);
  log.record("INSERT INTO t VALUES ('x')", 120);
  log.record("  ", 130);  // nothing to record
  const auto table = log.table();
  BOOST_REQUIRE(table.size() == 2u);
  const auto& select = table.at("SELECT * FROM t WHERE id = ?");
  BOOST_TEST(select.count == 2u);
  BOOST_TEST(select.first_seen == 100);
  BOOST_TEST(select.last_seen == 150);
  BOOST_TEST(table.at("INSERT INTO t VALUES (?)").count == 1u);
  BOOST_TEST(log.size() == 2u);
  BOOST_TEST(log.dropped() == 0u);
}

BOOST_AUTO_TEST_CASE(past_the_limit_new_shapes_are_dropped_and_known_ones_still_counted) {
  server::statement_log log("unused", 2);
  log.record("SELECT 5", 1);
  log.record("SELECT a FROM t", 1);
  log.record("SELECT b FROM t", 2);
  log.record("SELECT c FROM t", 2);
  log.record("SELECT 2", 3);
  BOOST_TEST(log.size() == 2u);
  BOOST_TEST(log.dropped() == 2u);
  BOOST_TEST(log.table().at("SELECT ?").count == 2u);
  BOOST_TEST(log.table().count("SELECT b FROM t") == 0u);
}

BOOST_AUTO_TEST_CASE(a_long_shape_is_cut_at_a_character_boundary) {
  server::statement_log log("unused", 10);
  std::string sql = "SELECT ";
  while (sql.size() < 2 * server::statement_log::max_shape_bytes)
    sql += "é, ";
  log.record(sql + "1", 1);
  log.record(sql + "2", 1);
  const auto table = log.table();
  BOOST_REQUIRE(table.size() == 1u);
  const auto& shape = table.begin()->first;
  BOOST_TEST(shape.size() <= server::statement_log::max_shape_bytes + 3);
  BOOST_TEST(shape.substr(shape.size() - 3) == "\xE2\x80\xA6");
  BOOST_TEST(table.begin()->second.count == 2u);
}

BOOST_AUTO_TEST_CASE(saved_as_sorted_json_lines_and_merged_on_the_next_open) {
  test::temp_dir dir;
  const auto path = dir.file("statements.jsonl");
  {
    auto log = open_log(path);
    log->record("SELECT 5", 100);
    log->record("SELECT 2", 200);
    log->record("DELETE FROM t", 150);
    BOOST_REQUIRE(log->save().has_value());
  }
  BOOST_TEST(read_file(path) ==
             "{\"sql\":\"DELETE FROM t\",\"count\":1,\"first_seen\":150,\"last_seen\":150}\n"
             "{\"sql\":\"SELECT ?\",\"count\":2,\"first_seen\":100,\"last_seen\":200}\n");
  BOOST_TEST(!std::filesystem::exists(path + ".tmp"));
  auto again = open_log(path);
  again->record("SELECT 3", 50);
  again->record("UPDATE t SET a = 5", 300);
  BOOST_REQUIRE(again->save().has_value());
  server::statement_table table;
  BOOST_REQUIRE(server::merge_statement_lines(read_file(path), table).has_value());
  BOOST_REQUIRE(table.size() == 3u);
  BOOST_TEST(table.at("SELECT ?").count == 3u);
  BOOST_TEST(table.at("SELECT ?").first_seen == 50);
  BOOST_TEST(table.at("SELECT ?").last_seen == 200);
  BOOST_TEST(table.at("UPDATE t SET a = ?").count == 1u);
}

BOOST_AUTO_TEST_CASE(the_shapes_a_file_holds_are_kept_even_past_the_limit) {
  test::temp_dir dir;
  const auto path = dir.file("statements.jsonl");
  write_file(path,
             "{\"sql\":\"SELECT a\",\"count\":4,\"first_seen\":1,\"last_seen\":2}\n\n"
             "{\"sql\":\"SELECT b\",\"count\":1,\"first_seen\":1,\"last_seen\":1}\n"
             "{\"sql\":\"SELECT a\",\"count\":1,\"first_seen\":0,\"last_seen\":9}\n");
  auto log = open_log(path, 1);
  BOOST_TEST(log->size() == 2u);
  BOOST_TEST(log->table().at("SELECT a").count == 5u);
  BOOST_TEST(log->table().at("SELECT a").first_seen == 0);
  log->record("SELECT c", 10);
  BOOST_TEST(log->dropped() == 1u);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_a_statement_log_is_refused_and_left_alone) {
  test::temp_dir dir;
  const auto path = dir.file("notes.txt");
  const std::string text = "{\"sql\":\"SELECT 5\",\"count\":1,\"first_seen\":1,\"last_seen\":1}\nhello\n";
  write_file(path, text);
  auto log = server::statement_log::open(path, 10);
  BOOST_REQUIRE(log.has_error());
  BOOST_TEST(log.error().message.find("line 2") != std::string::npos, log.error().message);
  BOOST_TEST(read_file(path) == text);
  write_file(path, "{\"sql\":\"SELECT 5\",\"count\":-1,\"first_seen\":1,\"last_seen\":1}\n");
  BOOST_TEST(server::statement_log::open(path, 10).has_error());
}

BOOST_AUTO_TEST_CASE(a_path_that_cannot_be_written_fails_at_open) {
  test::temp_dir dir;
  auto log = server::statement_log::open(dir.file("missing-folder/statements.jsonl"), 10);
  BOOST_REQUIRE(log.has_error());
  BOOST_TEST(log.error().message.find("missing-folder") != std::string::npos, log.error().message);
}

BOOST_AUTO_TEST_CASE(a_save_without_changes_writes_nothing) {
  test::temp_dir dir;
  const auto path = dir.file("statements.jsonl");
  auto log = open_log(path);
  std::filesystem::remove(path);
  BOOST_REQUIRE(log->save().has_value());
  BOOST_TEST(!std::filesystem::exists(path));
  log->record("SELECT 5", 1);
  BOOST_REQUIRE(log->save().has_value());
  BOOST_TEST(std::filesystem::exists(path));
}

BOOST_AUTO_TEST_CASE(threads_recording_at_once_lose_no_count) {
  server::statement_log log("unused", 1000);
  constexpr int per_thread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&log, t] {
      for (int i = 0; i < per_thread; ++i)
        log.record("SELECT * FROM t" + std::to_string(i % 8) + " WHERE id = " + std::to_string(t + 2), i);
    });
  for (auto& t : threads)
    t.join();
  const auto table = log.table();
  BOOST_REQUIRE(table.size() == 8u);
  for (const auto& [sql, stats] : table)
    BOOST_TEST(stats.count == 4u * per_thread / 8, sql);
}

// What one record() costs for a typical statement (normalize, hash, lock, increment).
BOOST_AUTO_TEST_CASE(recording_costs_little) {
  server::statement_log log("unused", 10000);
  const std::string sql = "SELECT id, name, email FROM users WHERE id = 12345 AND status = 'active' LIMIT 10";
  constexpr int n = 20000;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i)
    log.record(sql, 1);
  const auto took = std::chrono::steady_clock::now() - started;
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count() / n;
  BOOST_TEST_MESSAGE("statement_log::record: " << ns << " ns per statement of " << sql.size() << " bytes");
  BOOST_TEST(log.table().begin()->second.count == std::uint64_t{n});
  BOOST_TEST(ns < 100000);  // 0.1 ms even in a debug or sanitizer build; release is ~100 times less
}

BOOST_AUTO_TEST_SUITE_END()
