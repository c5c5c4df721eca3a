#include "proto/sql_response.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "proto/text.hpp"

namespace monolite::proto {
namespace json = boost::json;
namespace {

json::array columns_to_json(const statement_result& result) {
  json::array columns;
  columns.reserve(result.columns.size());
  for (const auto& name : result.columns) columns.emplace_back(valid_utf8(name));
  return columns;
}

json::array rows_to_json(const statement_result& result) {
  json::array rows;
  rows.reserve(result.rows.size());
  for (const auto& row : result.rows) {
    json::array cells;
    cells.reserve(row.size());
    for (const auto& cell : row) cells.push_back(value_to_json(cell));
    rows.push_back(std::move(cells));
  }
  return rows;
}

}  // namespace

std::string encode_query_response(const statement_result& result, double time_ms) {
  return json::serialize(json::object{
      {"columns", columns_to_json(result)}, {"rows", rows_to_json(result)}, {"time_ms", time_ms}});
}

std::string encode_execute_response(const std::vector<statement_result>& results, double time_ms) {
  json::array list;
  list.reserve(results.size());
  for (const auto& r : results)
    list.push_back(json::object{{"rows_affected", r.rows_affected},
                                {"last_insert_id", r.last_insert_id}});
  return json::serialize(json::object{{"results", std::move(list)}, {"time_ms", time_ms}});
}

std::string encode_batch_response(const std::vector<statement_result>& results, double time_ms) {
  json::array list;
  list.reserve(results.size());
  for (const auto& r : results)
    list.push_back(json::object{{"columns", columns_to_json(r)},
                                {"rows", rows_to_json(r)},
                                {"rows_affected", r.rows_affected},
                                {"last_insert_id", r.last_insert_id}});
  return json::serialize(json::object{{"results", std::move(list)}, {"time_ms", time_ms}});
}

}  // namespace monolite::proto
