// libSQL's write proxy (`proxy.Proxy`, gRPC-web), through which embedded replicas send what they
// cannot run locally: Describe at prepare, Execute of a Program, Disconnect. Requests decode into
// Hrana's own batch (the conditions are the same ones); results encode from what the engine answers.
// Values travel as bincode 1.x of libSQL's Value: a u32 LE tag (0 Null, 1 Integer i64 LE, 2 Real f64
// LE, 3 Text u64 LE length + UTF-8, 4 Blob u64 LE length + bytes). Pure: no I/O.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/error.hpp"
#include "proto/hrana.hpp"
#include "proto/sql_response.hpp"
#include "proto/value.hpp"

namespace monolite::proto::libsql_proxy {

// A program of more steps is refused (the client's transactional batches are its statements + 2).
inline constexpr std::size_t max_program_steps = 1000;
// Conditions nest deeper than this are refused (the client nests two levels; recursion is bounded).
inline constexpr std::size_t max_condition_depth = 32;

// Error.ErrorCode and ExecuteResults.State.
enum class error_code : std::uint32_t { sql_error = 0, tx_busy = 1, tx_timeout = 2, internal = 3 };
enum class txn_state : std::uint32_t { init = 0, invalid = 1, txn = 2 };

struct describe_request {
  std::string client_id;
  std::string stmt;
};

struct program_request {
  std::string client_id;
  hrana::batch program;  // one Hrana batch step per Program step, want_rows = !skip_rows
};

struct query_error {
  error_code code = error_code::sql_error;
  std::string message;
  std::int32_t extended_code = 0;  // SQLite's result code, when known
};

// A skipped step (its condition was false) answers an empty QueryResult.
struct skipped {};
using query_result = std::variant<skipped, statement_result, query_error>;

struct execute_results {
  std::vector<query_result> results;
  txn_state state = txn_state::init;
  // The replication frame the write committed at; a replica syncs until it has it. Unset: not sent.
  std::optional<std::uint64_t> current_frame_no;
};

// bincode of one value (a boolean goes as Integer 0/1, as SQLite stores it).
std::string encode_value(const value& v);
// Fails on an unknown tag, a truncated or oversize length, trailing bytes, or text not UTF-8.
result<value> decode_value(std::string_view data);

result<describe_request> decode_describe_request(std::string_view message);
result<program_request> decode_program_request(std::string_view message);
// DisconnectMessage.client_id.
result<std::string> decode_disconnect(std::string_view message);

std::string encode(const execute_results& results);
// DescribeResult.description; param_names get a leading "" because the client reads them 1-based.
std::string encode_description(const statement_description& description);
// DescribeResult.error.
std::string encode_describe_error(const query_error& error);

// SQLite's primary result code for a code name as the engine reports it ("SQLITE_CONSTRAINT" → 19;
// an extended name counts as its primary one); 0 when it is not a SQLite code.
std::int32_t sqlite_result_code(std::string_view code_name);

}  // namespace monolite::proto::libsql_proxy
