// follow_apply: a follower's copy changed batch by batch from a real SQLite primary's pages (a
// WAL-mode database, checkpointed, read page by page as its frames would carry them), with
// readers open; an interrupted apply finished at the next open; a torn redo file discarded.
#include "replica/follow_apply.hpp"

#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "support/temp_dir.hpp"

namespace {
using monolite::replica::follow_applier;
using monolite::replica::follow_position;
using monolite::replica::redo_writer;

struct sqlite_handle {
  sqlite3* db = nullptr;
  explicit sqlite_handle(const std::string& path, int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) {
    BOOST_REQUIRE(sqlite3_open_v2(path.c_str(), &db, flags, nullptr) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
  }
  ~sqlite_handle() { sqlite3_close_v2(db); }
  void exec(const std::string& sql) const {
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, sql + ": " + (error ? error : ""));
  }
  std::string text(const std::string& sql) const {
    sqlite3_stmt* st = nullptr;
    BOOST_REQUIRE(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::string out;
    while (sqlite3_step(st) == SQLITE_ROW) {
      if (!out.empty()) out += ",";
      const auto* t = sqlite3_column_text(st, 0);
      out += t ? reinterpret_cast<const char*>(t) : "NULL";
    }
    sqlite3_finalize(st);
    return out;
  }
};

// The primary's pages now (after a checkpoint): what a snapshot of it carries.
std::map<std::uint32_t, std::string> pages_of(const sqlite_handle& primary, const std::string& path) {
  primary.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::map<std::uint32_t, std::string> pages;
  for (std::size_t at = 0; at + 4096 <= bytes.size(); at += 4096)
    pages[static_cast<std::uint32_t>(at / 4096 + 1)] = bytes.substr(at, 4096);
  return pages;
}

void write_redo(const std::string& db, const std::map<std::uint32_t, std::string>& pages, follow_position after) {
  auto redo = redo_writer::create(db);
  BOOST_REQUIRE(redo);
  for (const auto& [no, image] : pages)
    BOOST_REQUIRE(redo->add_page(no, image));
  BOOST_REQUIRE(redo->finish(after, static_cast<std::uint32_t>(pages.size())));
}

struct follow_fixture {
  monolite::test::temp_dir dir;
  std::string primary_path = dir.file("primary.db"), copy = dir.file("copy.db");
  sqlite_handle primary{primary_path};
  follow_fixture() {
    primary.exec("PRAGMA page_size=4096; PRAGMA journal_mode=WAL; CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    insert_more(1, 50);
  }
  void insert_more(int from, int to) const {
    primary.exec("WITH RECURSIVE n(i) AS (SELECT " + std::to_string(from) +
                 " UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(to) +
                 ") INSERT INTO t(v) SELECT printf('row %d %s', i, hex(randomblob(150))) FROM n");
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(follow_apply, follow_fixture)

BOOST_AUTO_TEST_CASE(a_snapshot_then_a_change_are_applied_while_a_reader_has_the_file_open) {
  auto applier = follow_applier::open(copy);
  BOOST_REQUIRE(applier);
  BOOST_TEST(!(*applier)->position());
  write_redo(copy, pages_of(primary, primary_path), {"log-a", 10});
  BOOST_REQUIRE((*applier)->apply_redo());
  sqlite_handle reader(copy, SQLITE_OPEN_READONLY);
  BOOST_TEST(reader.text("PRAGMA integrity_check") == "ok");
  BOOST_TEST(reader.text("SELECT count(*) FROM t") == "50");
  BOOST_TEST(reader.text("PRAGMA journal_mode") == "delete");
  BOOST_TEST(reader.text("SELECT v FROM t WHERE id = 1").substr(0, 6) == "row 1 ");
  primary.exec("UPDATE t SET v = 'changed in place' WHERE id = 1");  // same size: only our counter tells
  write_redo(copy, pages_of(primary, primary_path), {"log-a", 15});
  BOOST_REQUIRE((*applier)->apply_redo());
  BOOST_TEST(reader.text("SELECT v FROM t WHERE id = 1") == "changed in place");
  insert_more(51, 400);  // grows the file: new pages and changed ones
  write_redo(copy, pages_of(primary, primary_path), {"log-a", 20});
  BOOST_REQUIRE((*applier)->apply_redo());
  BOOST_TEST(reader.text("SELECT count(*) FROM t") == "400");  // its page cache was dropped
  BOOST_TEST(reader.text("PRAGMA integrity_check") == "ok");
  primary.exec("DELETE FROM t WHERE id > 10; VACUUM");  // shrinks it
  write_redo(copy, pages_of(primary, primary_path), {"log-a", 30});
  BOOST_REQUIRE((*applier)->apply_redo());
  BOOST_TEST(reader.text("SELECT count(*) FROM t") == "10");
  BOOST_TEST(reader.text("PRAGMA integrity_check") == "ok");
  BOOST_TEST(((*applier)->position() == follow_position{"log-a", 30}));
  BOOST_TEST(!std::filesystem::exists(monolite::replica::follow_redo_path(copy)));
  auto state = monolite::replica::read_follow_state(copy);
  BOOST_REQUIRE(state);
  BOOST_TEST((**state == follow_position{"log-a", 30}));
}

// A crash after the redo file was complete, in the middle of writing the pages: the next open
// applies it again, whole.
BOOST_AUTO_TEST_CASE(an_interrupted_apply_is_finished_at_the_next_open) {
  {
    auto applier = follow_applier::open(copy);
    BOOST_REQUIRE(applier);
    write_redo(copy, pages_of(primary, primary_path), {"log-a", 10});
    BOOST_REQUIRE((*applier)->apply_redo());
  }
  insert_more(51, 300);
  write_redo(copy, pages_of(primary, primary_path), {"log-a", 20});
  {  // half the pages written, then the crash: garbage where the other half should be
    std::fstream half(copy, std::ios::in | std::ios::out | std::ios::binary);
    half.seekp(4096 * 2);
    half << std::string(4096 * 3, 'x');
  }
  auto reopened = follow_applier::open(copy);
  BOOST_REQUIRE(reopened);
  BOOST_TEST(((*reopened)->position() == follow_position{"log-a", 20}));
  sqlite_handle reader(copy, SQLITE_OPEN_READONLY);
  BOOST_TEST(reader.text("PRAGMA integrity_check") == "ok");
  BOOST_TEST(reader.text("SELECT count(*) FROM t") == "300");
  BOOST_TEST(!std::filesystem::exists(monolite::replica::follow_redo_path(copy)));
}

// A crash while the redo file was being written: the database was not touched yet; the redo
// file is dropped and the copy stays where it was.
BOOST_AUTO_TEST_CASE(a_torn_redo_file_is_discarded) {
  {
    auto applier = follow_applier::open(copy);
    BOOST_REQUIRE(applier);
    write_redo(copy, pages_of(primary, primary_path), {"log-a", 10});
    BOOST_REQUIRE((*applier)->apply_redo());
  }
  insert_more(51, 300);
  write_redo(copy, pages_of(primary, primary_path), {"log-a", 20});
  const auto redo = monolite::replica::follow_redo_path(copy);
  std::filesystem::resize_file(redo, std::filesystem::file_size(redo) - 100);
  auto reopened = follow_applier::open(copy);
  BOOST_REQUIRE(reopened);
  BOOST_TEST(((*reopened)->position() == follow_position{"log-a", 10}));
  BOOST_TEST(!std::filesystem::exists(redo));
  sqlite_handle reader(copy, SQLITE_OPEN_READONLY);
  BOOST_TEST(reader.text("PRAGMA integrity_check") == "ok");
  BOOST_TEST(reader.text("SELECT count(*) FROM t") == "50");
}

BOOST_AUTO_TEST_SUITE_END()
