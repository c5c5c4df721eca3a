#include "support/pg_cluster.hpp"

#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "pg/connection.hpp"

namespace monolite::test {
namespace {

const std::string pg_bin = "/usr/lib/postgresql/15/bin/";
constexpr auto stop_patience = std::chrono::seconds(20);

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Running as root, initdb and the server refuse to start: they run as postgres.
std::string as_server_user(const std::string& command) {
  return geteuid() == 0 ? "runuser -u postgres -- " + command : command;
}

// A zombie counts as gone: the postmaster is not our child, so someone else reaps it.
bool process_alive(int pid) {
  if (::kill(pid, 0) != 0) return false;
  const auto stat = read_all("/proc/" + std::to_string(pid) + "/stat");
  const auto close = stat.rfind(')');
  return close == std::string::npos || close + 2 >= stat.size() || stat[close + 2] != 'Z';
}

bool wait_gone(int pid, std::chrono::steady_clock::duration patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (process_alive(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::unique_ptr<pg_cluster>& shared_slot() {
  static std::unique_ptr<pg_cluster> cluster;
  return cluster;
}
std::mutex shared_mutex;

}  // namespace

pg_cluster::pg_cluster() {
  std::random_device rd;
  dir_ = std::filesystem::temp_directory_path() / ("monolite-pg-" + std::to_string(rd()));
  std::filesystem::create_directories(dir_);
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
                                         std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
                                         std::filesystem::perms::others_exec);
  if (geteuid() == 0) {
    const passwd* postgres = getpwnam("postgres");
    BOOST_REQUIRE_MESSAGE(postgres, "no postgres user to run PostgreSQL as");
    BOOST_REQUIRE(::chown(dir_.c_str(), postgres->pw_uid, postgres->pw_gid) == 0);
  }
  run(pg_bin + "initdb -D " + (dir_ / "data").string() + " -A trust -U postgres -E UTF8 --locale=C.UTF-8", "initdb");
  start();
}

pg_cluster::~pg_cluster() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void pg_cluster::start() {
  const std::string options = "-p " + std::to_string(port_) + " -k " + dir_.string() +
                              " -c listen_addresses='' -c fsync=off -c max_connections=100";
  run(pg_bin + "pg_ctl -D " + (dir_ / "data").string() + " -o \"" + options + "\" -l " + (dir_ / "log").string() +
          " -w -t 30 start",
      "pg_ctl start");
  std::ifstream pid_file(dir_ / "data" / "postmaster.pid");
  pid_file >> pid_;
  BOOST_REQUIRE_MESSAGE(pid_ > 0, "no postmaster.pid after pg_ctl start");
}

void pg_cluster::stop() {
  if (pid_ == 0) return;
  const int pid = pid_;
  pid_ = 0;
  const auto command = as_server_user(pg_bin + "pg_ctl -D " + (dir_ / "data").string() + " -m fast -w -t 15 stop");
  (void)std::system((command + " >/dev/null 2>&1").c_str());
  if (!wait_gone(pid, stop_patience)) {
    ::kill(pid, SIGKILL);
    wait_gone(pid, stop_patience);
  }
}

std::string pg_cluster::conninfo(const std::string& database) const {
  return "host=" + dir_.string() + " port=" + std::to_string(port_) + " user=postgres dbname=" + database;
}

std::string pg_cluster::new_database() {
  static std::atomic<int> counter{0};
  const auto name = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  auto admin = pg::connection::open(conninfo());
  BOOST_REQUIRE_MESSAGE(admin, "cannot connect to the test cluster: " + admin.error().describe());
  auto created = admin->exec("CREATE DATABASE " + name);
  BOOST_REQUIRE_MESSAGE(created, "CREATE DATABASE: " + created.error().describe());
  return name;
}

void pg_cluster::run(const std::string& command, const std::string& what) const {
  const auto output = dir_ / "command.log";
  const int status = std::system((as_server_user(command) + " >" + output.string() + " 2>&1").c_str());
  BOOST_REQUIRE_MESSAGE(status == 0, what + " failed: " + read_all(output) + read_all(dir_ / "log"));
}

pg_cluster& shared_pg_cluster() {
  std::lock_guard lock(shared_mutex);
  auto& cluster = shared_slot();
  if (!cluster) cluster = std::make_unique<pg_cluster>();
  return *cluster;
}

// At the end of the run: the shared cluster, if a test started it, stops.
struct pg_cluster_teardown {
  ~pg_cluster_teardown() { shared_slot().reset(); }
};
BOOST_TEST_GLOBAL_FIXTURE(pg_cluster_teardown);

}  // namespace monolite::test
