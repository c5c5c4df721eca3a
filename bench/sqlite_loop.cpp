// The in-process limit: the benchmark statements run in a loop on one SQLite connection,
// prepared once, with the pragmas monolite uses. No HTTP, no JSON, no threads.
//
//   monolite_sqlite_loop --db PATH [--synchronous normal|full] [--seconds S] [--rows N]
//
// Prints one JSON object per test on stdout:
//   {"test":"point_read","ops":N,"seconds":S,"ops_per_s":X}
// Tests: point_read, range_read (20 rows), insert (one row per transaction),
// insert_batch100 (100 rows per transaction: the group-commit limit; ops are rows).
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

struct Options {
  std::string db;
  std::string synchronous = "normal";
  double seconds = 3.0;
  long rows = 100000;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "monolite_sqlite_loop: %s\nusage: monolite_sqlite_loop --db PATH "
               "[--synchronous normal|full] [--seconds S] [--rows N]\n",
               msg);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) usage("missing value");
    const char* v = argv[++i];
    if (a == "--db")
      o.db = v;
    else if (a == "--synchronous")
      o.synchronous = v;
    else if (a == "--seconds")
      o.seconds = std::atof(v);
    else if (a == "--rows")
      o.rows = std::atol(v);
    else
      usage("unknown option");
  }
  if (o.db.empty()) usage("--db is required");
  if (o.synchronous != "normal" && o.synchronous != "full") usage("bad --synchronous");
  if (o.seconds <= 0 || o.rows < 20) usage("bad --seconds or --rows");
  return o;
}

void check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
    throw std::runtime_error(std::string(what) + ": " + sqlite3_errmsg(db));
}

void exec(sqlite3* db, const std::string& sql) {
  check(db, sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), sql.c_str());
}

class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    check(db, sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr), sql);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds integer parameters, steps to the end, returns the rows read (columns are read too,
  // as a server would to serialize them).
  int run(std::initializer_list<sqlite3_int64> params) {
    int i = 1;
    for (auto p : params)
      sqlite3_bind_int64(stmt_, i++, p);
    int rows = 0;
    int rc;
    while ((rc = sqlite3_step(stmt_)) == SQLITE_ROW) {
      ++rows;
      for (int c = 0; c < sqlite3_column_count(stmt_); ++c) {
        if (sqlite3_column_type(stmt_, c) == SQLITE_TEXT)
          sink_ += sqlite3_column_bytes(stmt_, c);
        else
          sink_ += sqlite3_column_int64(stmt_, c);
      }
    }
    check(db_, rc, "step");
    sqlite3_reset(stmt_);
    return rows;
  }
  long long sink() const { return sink_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  long long sink_ = 0;
};

// Runs `op` (which returns how many ops it did) until `seconds` have passed.
void measure(const char* name, double seconds, const std::function<long()>& op) {
  using clock = std::chrono::steady_clock;
  const auto start = clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  long ops = 0;
  auto now = start;
  do {
    for (int i = 0; i < 64; ++i)
      ops += op();
    now = clock::now();
  } while (now < deadline);
  const double s = std::chrono::duration<double>(now - start).count();
  std::printf("{\"test\":\"%s\",\"ops\":%ld,\"seconds\":%.3f,\"ops_per_s\":%.1f}\n", name, ops, s, ops / s);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) try {
  const Options o = parse(argc, argv);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(o.db.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK)
    throw std::runtime_error("cannot open " + o.db);
  exec(db, "PRAGMA journal_mode=WAL");
  exec(db, "PRAGMA synchronous=" + o.synchronous);
  exec(db, "PRAGMA cache_size=-64000");
  exec(db, "PRAGMA foreign_keys=ON");

  std::mt19937_64 rng(42);
  std::uniform_int_distribution<long> key(1, o.rows);
  std::uniform_int_distribution<long> range_start(1, o.rows - 19);

  Statement point(db, "SELECT id, name, balance FROM accounts WHERE id = ?");
  Statement range(db, "SELECT id, name, balance FROM accounts WHERE id BETWEEN ?1 AND ?1 + 19");
  Statement insert(db, "INSERT INTO events(account_id, payload) VALUES(?, 'event-payload-0123456789')");
  Statement begin(db, "BEGIN");
  Statement commit(db, "COMMIT");

  measure("point_read", o.seconds, [&] {
    point.run({key(rng)});
    return 1L;
  });
  measure("range_read", o.seconds, [&] {
    range.run({range_start(rng)});
    return 1L;
  });
  measure("insert", o.seconds, [&] {
    insert.run({key(rng)});
    return 1L;
  });
  measure("insert_batch100", o.seconds, [&] {
    begin.run({});
    for (int i = 0; i < 100; ++i)
      insert.run({key(rng)});
    commit.run({});
    return 100L;
  });
  if (point.sink() + range.sink() == 42) std::fputs("", stderr);  // keep the reads observable
  sqlite3_close(db);
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "monolite_sqlite_loop: %s\n", e.what());
  return 1;
}
