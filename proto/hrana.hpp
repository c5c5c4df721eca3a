// Hrana over HTTP (libSQL's protocol, versions 2 and 3, JSON encoding) as plain data: the
// pipeline and cursor request bodies decoded from JSON, and the results the server sends back.
// Pure: no I/O. Decoding and encoding live in hrana_decode.cpp and hrana_encode.cpp.
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
  std::uint32_t step = 0;         // ok, error
  std::vector<condition> conds;   // not (exactly one), and, or
};

struct batch_step {
  std::optional<condition> cond;
  stmt statement;
};

struct batch {
  std::vector<batch_step> steps;
};

enum class request_kind { execute, batch, sequence, describe, store_sql, close_sql, get_autocommit, close };
std::string_view request_name(request_kind kind);

struct stream_request {
  request_kind kind = request_kind::close;
  stmt statement;                    // execute
  batch steps;                       // batch
  std::optional<std::string> sql;    // sequence, describe, store_sql
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

// A malformed body (not JSON, not an object, no "requests" array) is an HTTP 400.
result<pipeline_body> decode_pipeline(std::string_view body);
result<cursor_body> decode_cursor(std::string_view body);

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
  statement_result stmt;               // execute
  std::vector<step_outcome> steps;     // batch
  statement_description description;   // describe
  bool is_autocommit = true;           // get_autocommit
};

// {"baton", "base_url": null, "results": [...]}
std::string encode_pipeline_response(const std::optional<std::string>& baton,
                                     const std::vector<stream_result>& results);
// The cursor response: a {"baton", "base_url"} line, then one line per entry (step_begin, row...,
// step_end or step_error), then an error line when the batch as a whole failed.
std::string encode_cursor_response(const std::optional<std::string>& baton, const std::vector<step_outcome>& steps,
                                   const std::optional<error>& failure);
// An HTTP-level error in the shape Hrana clients read ({"message", "code"}), which also carries
// monolite's usual {"error": {"code", "message"}}.
std::string encode_http_error(const api_error& e);

// A monolite error as Hrana reports it: SQLite's base code name (SQLITE_CONSTRAINT_UNIQUE →
// SQLITE_CONSTRAINT), as clients compare codes with ===; BAD_PARAMS → ARGS_INVALID.
error from_api_error(const api_error& e);

}  // namespace monolite::proto::hrana
