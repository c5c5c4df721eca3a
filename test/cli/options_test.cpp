#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>

#include "cli/serve_command.hpp"
#include "support/temp_dir.hpp"

using namespace monolite;

namespace {

// Sets environment variables for one test and restores them after.
class env_guard {
 public:
  ~env_guard() {
    for (const auto& name : names_)
      unsetenv(name.c_str());
  }
  void set(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), 1);
    names_.push_back(name);
  }

 private:
  std::vector<std::string> names_;
};

std::string write_config(const test::temp_dir& dir, const std::string& text) {
  const auto path = dir.file("monolite.yaml");
  std::ofstream(path) << text;
  return path;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_options)

BOOST_AUTO_TEST_CASE(defaults_are_the_contracts) {
  auto s = cli::load_serve_settings({}).value();
  BOOST_TEST(s.db_path == "./data/app.db");
  BOOST_TEST(s.listen_host == "127.0.0.1");
  BOOST_TEST(s.listen_port == 8080);
  BOOST_TEST(s.synchronous == "NORMAL");
  BOOST_TEST(s.cache_size == -64000);
  BOOST_TEST(s.busy_timeout_ms == 5000);
}

BOOST_AUTO_TEST_CASE(flag_beats_env_beats_file_beats_default) {
  test::temp_dir dir;
  env_guard env;
  const auto config = write_config(dir, "listen: 127.0.0.1:1001\nreaders: 3\nmax_body: 77\n");
  auto from_file = cli::load_serve_settings({"--config", config}).value();
  BOOST_TEST(from_file.listen_port == 1001);
  BOOST_TEST(from_file.readers == 3u);
  BOOST_TEST(from_file.max_body == 77u);
  env.set("MONOLITE_LISTEN", "127.0.0.1:1002");
  BOOST_TEST(cli::load_serve_settings({"--config", config}).value().listen_port == 1002);
  BOOST_TEST(cli::load_serve_settings({"--config", config, "--listen=127.0.0.1:1003"}).value().listen_port == 1003);
  BOOST_TEST(cli::load_serve_settings({"--config", config, "--listen", "[::1]:1004"}).value().listen_host == "::1");
}

BOOST_AUTO_TEST_CASE(transaction_timeout_is_a_flag_and_a_variable) {
  env_guard env;
  BOOST_TEST(cli::load_serve_settings({}).value().transaction_timeout.count() == 5000);
  env.set("MONOLITE_TRANSACTION_TIMEOUT", "0.25");
  BOOST_TEST(cli::load_serve_settings({}).value().transaction_timeout.count() == 250);
  BOOST_TEST(cli::load_serve_settings({"--transaction-timeout", "30"}).value().transaction_timeout.count() == 30000);
  auto bad = cli::load_serve_settings({"--transaction-timeout", "soon"});
  BOOST_REQUIRE(bad.has_error());
  BOOST_TEST(bad.error().message.find("--transaction-timeout") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(read_transaction_slots_default_to_four_per_reader_thread_and_at_least_16) {
  BOOST_TEST(cli::load_serve_settings({"--readers", "2", "--db-executor", "pool"}).value().max_read_transactions ==
             16u);
  BOOST_TEST(cli::load_serve_settings({"--readers", "10", "--db-executor", "pool"}).value().max_read_transactions ==
             40u);
  // affine: one reader per HTTP thread
  BOOST_TEST(cli::load_serve_settings({"--threads", "6", "--readers", "1"}).value().max_read_transactions == 24u);
  BOOST_TEST(cli::load_serve_settings({"--max-read-transactions", "2"}).value().max_read_transactions == 2u);
}

BOOST_AUTO_TEST_CASE(the_guard_thresholds_have_defaults_and_zero_turns_them_off) {
  const auto defaults = cli::load_serve_settings({}).value();
  BOOST_TEST(defaults.read_snapshot_warning.count() == 300000);
  BOOST_TEST(defaults.wal_size_warning == std::uint64_t{1} << 30);
  const auto off = cli::load_serve_settings({"--read-snapshot-warning", "0", "--wal-size-warning", "0"}).value();
  BOOST_TEST(off.read_snapshot_warning.count() == 0);
  BOOST_TEST(off.wal_size_warning == 0u);
  const auto set = cli::load_serve_settings({"--read-snapshot-warning", "1s", "--wal-size-warning", "4096"}).value();
  BOOST_TEST(set.read_snapshot_warning.count() == 1000);
  BOOST_TEST(set.wal_size_warning == 4096u);
}

BOOST_AUTO_TEST_CASE(bad_guard_values_are_usage_errors_naming_the_flag) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--max-read-transactions", "0"},
                                                                {"--max-read-transactions", "many"},
                                                                {"--read-snapshot-warning", "soon"},
                                                                {"--wal-size-warning", "-1"}}) {
    auto r = cli::load_serve_settings(args);
    BOOST_REQUIRE_MESSAGE(r.has_error(), args.front());
    BOOST_TEST(r.error().message.find(args.front() + ": '" + args.back() + "'") == 0u, r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(public_listen_needs_auth_or_an_explicit_opt_out) {
  BOOST_TEST(cli::load_serve_settings({"--listen", "0.0.0.0:8080", "--auth", "/etc/monolite/auth.yaml"}).has_value());
  BOOST_TEST(cli::load_serve_settings({"--listen", "0.0.0.0:8080", "--insecure-no-auth", "true"}).has_value());
  BOOST_TEST(cli::load_serve_settings({"--listen", "127.0.0.2:8080"}).has_value());
  BOOST_TEST(cli::load_serve_settings({"--listen", "[::1]:8080"}).has_value());
  BOOST_TEST(cli::load_serve_settings({"--listen", "localhost:8080"}).value().listen_host == "127.0.0.1");
}

BOOST_AUTO_TEST_CASE(config_values_expand_environment_variables) {
  test::temp_dir dir;
  env_guard env;
  env.set("MONOLITE_TEST_DB_DIR", "/srv/data");
  const auto config = write_config(dir, "db: ${MONOLITE_TEST_DB_DIR}/app.db\n");
  BOOST_TEST(cli::load_serve_settings({"--config", config}).value().db_path == "/srv/data/app.db");
}

BOOST_AUTO_TEST_CASE(usage_errors_name_the_option) {
  test::temp_dir dir;
  struct sample {
    std::vector<std::string> args;
    std::string mentions;
  };
  const auto bad_key = write_config(dir, "listen: 127.0.0.1:1\nbogus: 1\n");
  for (const auto& [args, mentions] :
       {sample{{"--readers", "abc"}, "--readers"}, sample{{"--readers", "0"}, "--readers"},
        sample{{"--synchronous", "sometimes"}, "--synchronous"}, sample{{"--listen", "nowhere"}, "--listen"},
        sample{{"--listen", "127.0.0.1:99999"}, "--listen"}, sample{{"--frobnicate", "1"}, "--frobnicate"},
        sample{{"--db"}, "--db"}, sample{{"--config", dir.file("missing.yaml")}, "--config"},
        sample{{"--config", bad_key}, "bogus"}, sample{{"--shutdown-grace", "-1"}, "--shutdown-grace"},
        sample{{"--listen", "0.0.0.0:8080"}, "--insecure-no-auth"}, sample{{"--listen", "[::]:8080"}, "--auth"},
        sample{{"--insecure-no-auth", "yes"}, "--insecure-no-auth"}, sample{{"--max-params", "0"}, "--max-params"},
        sample{{"--statement-timeout", "soon"}, "--statement-timeout"},
        sample{{"--listen", "example.org:80"}, "--listen"}}) {
    auto r = cli::load_serve_settings(args);
    BOOST_REQUIRE_MESSAGE(r.has_error(), mentions);
    BOOST_TEST(r.error().message.find(mentions) != std::string::npos, r.error().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(config_file_types)

// Every key or value yaml-cpp cannot turn into text is a usage error that names the key (and so
// exits 2), never an exception escaping to main's "unexpected failure".
BOOST_AUTO_TEST_CASE(a_key_or_value_of_the_wrong_type_is_a_usage_error_naming_it) {
  test::temp_dir dir;
  struct sample {
    std::string yaml;
    std::string mentions;
  };
  for (const auto& [yaml, mentions] :
       {sample{"? [a, b]\n: 1\n", "[a, b]"}, sample{"? {readers: 2}\n: 1\n", "readers: 2"},
        sample{"readers: 2\n? [x]\n: 1\n", "[x]"}, sample{"~: 1\n", "null"}, sample{"readers: [1, 2]\n", "readers"},
        sample{"readers: {n: 1}\n", "readers"}, sample{"readers:\n", "readers"}}) {
    const auto config = write_config(dir, yaml);
    auto r = cli::load_serve_settings({"--config", config});
    BOOST_REQUIRE_MESSAGE(r.has_error(), yaml);
    BOOST_TEST(r.error().message.find(mentions) != std::string::npos, r.error().message);
    BOOST_TEST(r.error().message.find("--config") != std::string::npos, r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(yaml_scalars_are_read_as_written) {
  test::temp_dir dir;
  const auto config = write_config(dir,
                                   "access_log: true\nstatement_timeout: 1s\nidle_timeout: 250ms\n"
                                   "shutdown_grace: 2\nbusy_timeout: 100\nreplica_sync: false\n");
  auto s = cli::load_serve_settings({"--config", config}).value();
  BOOST_TEST(s.access_log);
  BOOST_TEST(s.statement_timeout.count() == 1000);
  BOOST_TEST(s.idle_timeout.count() == 250);
  BOOST_TEST(s.shutdown_grace.count() == 2000);
  BOOST_TEST(s.busy_timeout_ms == 100);
  BOOST_TEST(!s.replica_sync);
  // YAML 1.1's other spellings of a boolean are not ours: exactly true or false.
  auto yes = cli::load_serve_settings({"--config", write_config(dir, "access_log: yes\n")});
  BOOST_REQUIRE(yes.has_error());
  BOOST_TEST(yes.error().message.find("--access-log") != std::string::npos, yes.error().message);
}

BOOST_AUTO_TEST_SUITE_END()
