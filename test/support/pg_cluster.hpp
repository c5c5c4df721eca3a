// A throwaway PostgreSQL 15 cluster for unit tests (the recipe of test/integration/postgres.py):
// initdb into a temporary folder, one server listening only on a Unix socket in that folder, run
// as the postgres user when the tests run as root, stopped by pg_ctl and then by PID. A cluster
// that cannot start fails the test (BOOST_REQUIRE), never skips it.
#pragma once
#include <filesystem>
#include <string>

namespace monolite::test {

class pg_cluster {
 public:
  pg_cluster();  // initdb + start
  ~pg_cluster();
  pg_cluster(const pg_cluster&) = delete;
  pg_cluster& operator=(const pg_cluster&) = delete;

  void start();  // again, after stop(): same folder, same socket
  void stop();   // returns once the postmaster's PID is gone

  // libpq key=value string for `database` on this cluster.
  std::string conninfo(const std::string& database = "postgres") const;
  // CREATE DATABASE with a fresh name; returns the name.
  std::string new_database();

 private:
  void run(const std::string& command, const std::string& what) const;

  std::filesystem::path dir_;
  int port_ = 5432;  // names the socket file only: the server listens on no TCP port
  int pid_ = 0;
};

// One cluster for the whole run of the test executable, started by the first test that asks for it
// and stopped (by PID) by a global fixture at the end of the run.
pg_cluster& shared_pg_cluster();

}  // namespace monolite::test
