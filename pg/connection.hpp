// One PostgreSQL connection (RAII: PQfinish once) for command-line tools: blocking calls, text
// results, COPY in both directions, prepared statements. Expected failures come back as pg::error.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pg/error.hpp"

struct pg_conn;

namespace monolite::pg {

using field = std::optional<std::string>;  // nullopt is SQL NULL

struct rows {
  std::vector<std::string> columns;
  std::vector<std::vector<field>> values;
  std::int64_t affected = 0;  // PQcmdTuples, 0 when the command reports none
};

class connection {
 public:
  // `url`: postgres://user@host:port/db or any libpq connection string.
  static result<connection> open(const std::string& url);

  connection(connection&& other) noexcept;
  connection& operator=(connection&& other) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;
  ~connection();

  // One or more statements, text results of the last one.
  result<rows> exec(const std::string& sql);
  result<rows> exec_params(const std::string& sql, const std::vector<field>& params);
  // PREPARE through the protocol (PQprepare): errors carry PostgreSQL's fields and position.
  result<void> prepare(const std::string& name, const std::string& sql);

  // COPY ... FROM STDIN: start, put any number of chunks, finish (returns the rows copied).
  result<void> copy_in(const std::string& sql);
  result<void> put(std::string_view data);
  result<std::int64_t> finish();
  // COPY ... TO STDOUT: `sink` gets each data row as PostgreSQL sends it (one line, with '\n').
  result<std::int64_t> copy_out(const std::string& sql, const std::function<void(std::string_view)>& sink);

  std::string server_version() const;

 private:
  explicit connection(pg_conn* conn) : conn_(conn) {}
  error last_error(const std::string& statement) const;

  pg_conn* conn_ = nullptr;
};

}  // namespace monolite::pg
