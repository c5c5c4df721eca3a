#include "proto/sql_response.hpp"

#include <algorithm>
#include <cmath>

#include "proto/json_writer.hpp"

namespace monolite::proto {
namespace {

void write_columns(json_writer& w, const statement_result& result) {
  w.raw("\"columns\":[");
  for (std::size_t i = 0; i < result.columns.size(); ++i) {
    if (i) w.raw(",");
    w.string(result.columns[i]);
  }
  w.raw("]");
}

void write_rows(json_writer& w, const statement_result& result) {
  w.raw("\"rows\":[");
  for (std::size_t r = 0; r < result.rows.size(); ++r) {
    w.raw(r ? ",[" : "[");
    const auto& row = result.rows[r];
    for (std::size_t c = 0; c < row.size(); ++c) {
      if (c) w.raw(",");
      w.value(row[c]);
    }
    w.raw("]");
  }
  w.raw("]");
}

void write_counts(json_writer& w, const statement_result& result) {
  w.raw("\"rows_affected\":").integer(result.rows_affected);
  w.raw(",\"last_insert_id\":");
  if (result.last_insert_id)
    w.integer(*result.last_insert_id);
  else
    w.raw("null");
}

// Milliseconds with microsecond resolution, written with integer arithmetic (this is on every response).
void write_time(json_writer& w, double time_ms) {
  const auto micros = static_cast<std::int64_t>(std::llround(std::clamp(time_ms, 0.0, 1e12) * 1000));
  const auto fraction = micros % 1000;
  w.raw("\"time_ms\":").integer(micros / 1000).raw(".");
  w.raw(fraction < 10 ? "00" : fraction < 100 ? "0" : "").integer(fraction);
}

std::string encode_results(const std::vector<statement_result>& results, double time_ms, bool with_rows) {
  std::string out;
  json_writer w(out);
  w.raw("{\"results\":[");
  for (std::size_t i = 0; i < results.size(); ++i) {
    w.raw(i ? ",{" : "{");
    if (with_rows) {
      write_columns(w, results[i]);
      w.raw(",");
      write_rows(w, results[i]);
      w.raw(",");
    }
    write_counts(w, results[i]);
    w.raw("}");
  }
  w.raw("],");
  write_time(w, time_ms);
  w.raw("}");
  return out;
}

}  // namespace

std::string encode_query_response(const statement_result& result, double time_ms) {
  std::string out;
  out.reserve(64 + result.rows.size() * 32);
  json_writer w(out);
  w.raw("{");
  write_columns(w, result);
  w.raw(",");
  write_rows(w, result);
  w.raw(",");
  write_time(w, time_ms);
  w.raw("}");
  return out;
}

std::string encode_execute_response(const std::vector<statement_result>& results, double time_ms) {
  return encode_results(results, time_ms, false);
}

std::string encode_batch_response(const std::vector<statement_result>& results, double time_ms) {
  return encode_results(results, time_ms, true);
}

}  // namespace monolite::proto
