// Hrana over HTTP (libSQL's protocol, versions 2 and 3, JSON encoding) as plain data: the
// pipeline and cursor request bodies decoded from JSON, and the results the server sends back.
// Pure: no I/O. Decoding: hrana_decode.hpp; encoding: hrana_encode.hpp.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.hpp"
#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"

namespace monolite::proto::hrana {

// Hrana's error object: a message and a machine-readable code (SQLITE_CONSTRAINT, SQL_NOT_FOUND, ...).
struct error {
  std::string message;
  std::string code;
};

// A Stmt: SQL text (inline or stored with store_sql) and its arguments.
struct stmt {
  std::optional<std::string> sql;
  std::optional<std::int32_t> sql_id;
  std::vector<value> args;
  std::vector<named_param> named_args;
  bool want_rows = true;
};

struct condition {
  enum class kind { ok, error, not_, and_, or_, is_autocommit };
  kind type = kind::ok;
  std::uint32_t step = 0;        // ok, error
  std::vector<condition> conds;  // not (exactly one), and, or
};

struct batch_step {
  std::optional<condition> cond;
  stmt statement;
};

struct batch {
  std::vector<batch_step> steps;
};

enum class request_kind { execute, batch, sequence, describe, store_sql, close_sql, get_autocommit, close };

struct stream_request {
  request_kind kind = request_kind::close;
  stmt statement;                      // execute
  batch steps;                         // batch
  std::optional<std::string> sql;      // sequence, describe, store_sql
  std::optional<std::int32_t> sql_id;  // sequence, describe, store_sql, close_sql
};

// One entry per request: decoded, or the error that request alone answers with.
using decoded_request = boost::system::result<stream_request, error>;

struct pipeline_body {
  std::optional<std::string> baton;
  std::vector<decoded_request> requests;
};

struct cursor_body {
  std::optional<std::string> baton;
  boost::system::result<batch, error> steps{batch{}};
};

// ------------------------------------------------------------------------------------ results

struct step_outcome {
  enum class state { skipped, ok, failed };
  state status = state::skipped;
  statement_result result;
  error failure;
};

// What one request of a pipeline answered: `failure` set → {"type":"error"}.
struct stream_result {
  request_kind kind = request_kind::close;
  std::optional<error> failure;
  statement_result stmt;              // execute
  std::vector<step_outcome> steps;    // batch
  statement_description description;  // describe
  bool is_autocommit = true;          // get_autocommit
};

}  // namespace monolite::proto::hrana
