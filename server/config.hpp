// `monolite serve` settings: the option table and its typed, validated form.
#pragma once
#include <chrono>
#include <cstdint>
#include <span>
#include <string>

#include "server/log.hpp"
#include "server/options.hpp"

namespace monolite::cli {

struct serve_settings {
  std::string db_path;
  std::string listen_host;
  unsigned short listen_port = 0;
  unsigned readers = 1;
  unsigned threads = 1;
  std::string synchronous;  // NORMAL or FULL
  std::int64_t cache_size = 0;
  int busy_timeout_ms = 0;
  std::size_t max_body = 0;
  std::size_t writer_queue = 0;
  std::chrono::milliseconds shutdown_grace{0};
  std::chrono::milliseconds idle_timeout{0};
  log::level log_level = log::level::info;
  std::string auth_path;  // empty: no authentication (loopback only, or --insecure-no-auth)
  bool insecure_no_auth = false;
  std::size_t max_connections = 0;
  std::chrono::milliseconds statement_timeout{0};
  int max_sql_length = 0;
  int max_params = 0;
  std::size_t max_result_rows = 0;
  std::size_t max_result_bytes = 0;
  // --db-executor: where the actors' strands run (docs/architecture.md, "Where SQLite runs").
  bool readers_on_io_threads = false;  // affine: one reader per HTTP thread
};

std::span<const option_spec> serve_option_specs();

// Exit-2 material: the message names the flag whose value is wrong.
usage_result<serve_settings> load_serve_settings(const std::vector<std::string>& args);

}  // namespace monolite::cli
