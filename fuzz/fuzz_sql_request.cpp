// Fuzzes the request decoders of /sql/query, /sql/execute and /sql/batch, and the JSON writer.
//
// Every input goes through decode_query, decode_execute and decode_batch. Failures must be 4xx
// api_errors whose JSON form parses. Successes are written back out with json_writer; the text must
// parse with boost::json and decode to the same statements (floats that are not finite come back as
// null). The response encoders get the decoded values as a result row, and the writer also gets
// the raw input as a string and as a float.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/statement_as_result.hpp"
#include "proto/json_writer.hpp"
#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"
#include "proto/text.hpp"

namespace {
using namespace monolite::proto;
namespace json = boost::json;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz_sql_request: %s\n%.*s\n", what,
               static_cast<int>(std::min<std::size_t>(detail.size(), 4096)), detail.data());
  std::abort();
}

json::value parse_or_fail(std::string_view text, const char* what) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) fail(what, text);
  return parsed;
}

void check_error(const api_error& error) {
  if (error.status < 400 || error.status > 499) fail("decode error with a status outside 4xx", error.code);
  if (error.code.empty()) fail("decode error without a code");
  if (error.message.empty()) fail("decode error without a message", error.code);
  const auto body = parse_or_fail(json::serialize(to_json(error)), "error body is not JSON");
  const auto& inner = body.at("error");
  if (inner.at("code").as_string() != error.code) fail("error body lost the code", error.code);
  if (!inner.at("message").is_string()) fail("error body without a message string");
}

// Values as they come back from the JSON text json_writer makes.
value after_round_trip(const value& v) {
  if (const auto* d = std::get_if<double>(&v); d && !std::isfinite(*d)) return std::monostate{};
  return v;
}

// Doubles may differ in the last bits: the JSON parser is not always correctly rounded.
bool same_double(double a, double b) {
  if (a == b) return true;
  if (std::signbit(a) != std::signbit(b)) return false;
  std::int64_t ia, ib;
  std::memcpy(&ia, &a, sizeof a);
  std::memcpy(&ib, &b, sizeof b);
  return std::llabs(ia - ib) <= 2;
}

// With `through_json`, `received` was decoded from the JSON text json_writer made of `sent`.
bool same_value(const value& sent, const value& received, bool through_json) {
  const value expected = through_json ? after_round_trip(sent) : sent;
  if (expected.index() != received.index()) return false;
  if (const auto* d = std::get_if<double>(&expected)) return same_double(*d, std::get<double>(received));
  return expected == received;
}

bool same_statement(const statement& a, const statement& b, bool through_json = true) {
  if (a.sql != b.sql || a.positional.size() != b.positional.size() || a.named.size() != b.named.size()) return false;
  for (std::size_t i = 0; i < a.positional.size(); ++i)
    if (!same_value(a.positional[i], b.positional[i], through_json)) return false;
  for (std::size_t i = 0; i < a.named.size(); ++i)
    if (a.named[i].name != b.named[i].name || !same_value(a.named[i].val, b.named[i].val, through_json)) return false;
  return true;
}

void write_statement(json_writer& w, const statement& s) {
  w.raw("{\"sql\":").string(s.sql);
  if (!s.positional.empty()) {
    w.raw(",\"params\":[");
    for (std::size_t i = 0; i < s.positional.size(); ++i) {
      if (i) w.raw(",");
      w.value(s.positional[i]);
    }
    w.raw("]");
  } else if (!s.named.empty()) {
    w.raw(",\"params\":{");
    for (std::size_t i = 0; i < s.named.size(); ++i) {
      if (i) w.raw(",");
      w.string(s.named[i].name).raw(":").value(s.named[i].val);
    }
    w.raw("}");
  }
  w.raw("}");
}

std::string encode_statement(const statement& s) {
  std::string out;
  json_writer w(out);
  write_statement(w, s);
  return out;
}

std::string encode_write_request(const write_request& request) {
  std::string out;
  json_writer w(out);
  w.raw("{\"statements\":[");
  for (std::size_t i = 0; i < request.statements.size(); ++i) {
    if (i) w.raw(",");
    write_statement(w, request.statements[i]);
  }
  w.raw("]}");
  return out;
}

void check_response_encoders(const std::vector<statement>& statements) {
  std::vector<statement_result> results;
  for (const auto& s : statements)
    results.push_back(monolite::fuzz::statement_as_result(s));
  const auto query = parse_or_fail(encode_query_response(results.front(), 0.25), "query response is not JSON");
  const auto& row = query.at("rows").as_array().at(0).as_array();
  if (row.size() != results.front().rows.front().size()) fail("query response row has the wrong width");
  parse_or_fail(encode_execute_response(results, 1234.5678), "execute response is not JSON");
  const auto batch = parse_or_fail(encode_batch_response(results, -0.0), "batch response is not JSON");
  if (batch.at("results").as_array().size() != results.size()) fail("batch response lost results");
}

void check_statement(const statement& decoded) {
  const auto text = encode_statement(decoded);
  parse_or_fail(text, "re-encoded statement is not JSON");
  auto again = decode_query(text);
  if (!again) fail("re-encoded statement does not decode", text);
  if (!same_statement(decoded, *again)) fail("statement changed in a round trip", text);
}

void check_write_request(const write_request& decoded, bool batch) {
  if (decoded.statements.empty()) fail("write request without statements");
  if (decoded.want_rows != batch) fail("want_rows does not match the route");
  const auto text = encode_write_request(decoded);
  parse_or_fail(text, "re-encoded write request is not JSON");
  auto again = batch ? decode_batch(text) : decode_execute(text);
  if (!again) fail("re-encoded write request does not decode", text);
  if (again->statements.size() != decoded.statements.size()) fail("statement count changed", text);
  for (std::size_t i = 0; i < decoded.statements.size(); ++i)
    if (!same_statement(decoded.statements[i], again->statements[i])) fail("write request changed", text);
  check_response_encoders(decoded.statements);
}

// The writer on arbitrary bytes: valid JSON, and the text survives as valid UTF-8.
void check_writer_primitives(std::string_view input) {
  std::string out;
  json_writer w(out);
  w.string(input);
  const auto parsed = parse_or_fail(out, "json_writer::string made invalid JSON");
  if (parsed.as_string() != valid_utf8(input)) fail("json_writer::string changed valid text", out);

  if (input.size() >= sizeof(double)) {
    double d;
    std::memcpy(&d, input.data(), sizeof d);
    std::string number;
    json_writer(number).number(d);
    const auto n = parse_or_fail(number, "json_writer::number made invalid JSON");
    if (!std::isfinite(d)) {
      if (!n.is_null()) fail("a non-finite float is not null", number);
    } else {
      if (!n.is_double()) fail("a float came back as another kind", number);
      double exact;
      const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), exact);
      if (ec != std::errc() || end != number.data() + number.size() || !(exact == d))
        fail("json_writer::number is not exact", number);
    }
    std::int64_t i;
    std::memcpy(&i, input.data(), sizeof i);
    std::string integer;
    json_writer(integer).integer(i);
    const auto parsed_int = parse_or_fail(integer, "json_writer::integer made invalid JSON");
    if (!parsed_int.is_int64() || parsed_int.get_int64() != i) {
      if (!(parsed_int.is_uint64() && i >= 0 && parsed_int.get_uint64() == static_cast<std::uint64_t>(i)))
        fail("json_writer::integer is not exact", integer);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  auto query = decode_query(body);
  if (query) {
    check_statement(*query);
    check_response_encoders({*query});
  } else {
    check_error(query.error());
  }

  auto execute = decode_execute(body);
  if (execute)
    check_write_request(*execute, false);
  else
    check_error(execute.error());

  auto batch = decode_batch(body);
  if (batch)
    check_write_request(*batch, true);
  else
    check_error(batch.error());

  // A body good for /sql/query without "statements" is the same single statement for /sql/execute.
  if (query) {
    boost::system::error_code ec;
    const auto parsed = json::parse(body, ec);
    if (!ec && parsed.is_object() && !parsed.get_object().contains("statements")) {
      if (!execute) fail("a valid query body is refused by /sql/execute", body);
      if (execute->statements.size() != 1 || !same_statement(*query, execute->statements.front(), false))
        fail("/sql/query and /sql/execute decode the same body differently", body);
    }
  }
  // Every batch body is also an execute body.
  if (batch && !execute) fail("a valid batch body is refused by /sql/execute", body);

  check_writer_primitives(body);
  return 0;
}
