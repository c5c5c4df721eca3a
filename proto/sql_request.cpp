#include "proto/sql_request.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include "proto/text.hpp"

namespace monolite::proto {
namespace json = boost::json;
namespace {

// Parsed into `storage`: the callers give a stack-backed arena, so a request costs few allocations.
result<json::object> parse_object(std::string_view body, json::storage_ptr storage) {
  if (auto literal = find_out_of_range_integer(body))
    return bad_params("integer " + std::string(*literal) + " is outside the signed 64-bit range");
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec, std::move(storage));
  if (ec) return bad_json("request body is not valid JSON: " + ec.message());
  if (!parsed.is_object()) return bad_request("request body must be a JSON object");
  return std::move(parsed.get_object());
}

result<void> decode_params(const json::value& params, statement& out) {
  if (params.is_array()) {
    for (const auto& item : params.get_array()) {
      auto v = value_from_json(item);
      if (!v) return v.error();
      out.positional.push_back(std::move(*v));
    }
    return {};
  }
  if (params.is_object()) {
    for (const auto& [key, item] : params.get_object()) {
      auto v = value_from_json(item);
      if (!v) return v.error();
      out.named.push_back({std::string(key), std::move(*v)});
    }
    return {};
  }
  if (params.is_null()) return {};
  return bad_params("\"params\" must be an array or an object");
}

result<statement> decode_statement(const json::object& object) {
  const auto* sql = object.if_contains("sql");
  if (!sql) return bad_request("missing \"sql\"");
  if (!sql->is_string()) return bad_request("\"sql\" must be a string");
  statement out;
  out.sql = std::string(sql->get_string());
  if (const auto* params = object.if_contains("params")) {
    if (auto ok = decode_params(*params, out); !ok) return ok.error();
  }
  return out;
}

result<std::vector<statement>> decode_statement_list(const json::object& object) {
  const auto* list = object.if_contains("statements");
  if (!list || !list->is_array()) return bad_request("\"statements\" must be an array");
  if (list->get_array().empty()) return bad_request("\"statements\" must not be empty");
  std::vector<statement> out;
  for (const auto& item : list->get_array()) {
    if (!item.is_object()) return bad_request("each entry of \"statements\" must be an object with \"sql\"");
    auto stmt = decode_statement(item.get_object());
    if (!stmt) return stmt.error();
    out.push_back(std::move(*stmt));
  }
  return out;
}

}  // namespace

// Room for a typical request's parsed form; larger ones spill to the heap.
constexpr std::size_t arena_bytes = 4096;

result<statement> decode_query(std::string_view body) {
  unsigned char arena[arena_bytes];
  json::monotonic_resource resource(arena, sizeof arena);
  auto object = parse_object(body, &resource);
  if (!object) return object.error();
  return decode_statement(*object);
}

result<write_request> decode_execute(std::string_view body) {
  unsigned char arena[arena_bytes];
  json::monotonic_resource resource(arena, sizeof arena);
  auto object = parse_object(body, &resource);
  if (!object) return object.error();
  write_request out;
  if (object->contains("statements")) {
    auto list = decode_statement_list(*object);
    if (!list) return list.error();
    out.statements = std::move(*list);
    return out;
  }
  auto stmt = decode_statement(*object);
  if (!stmt) return stmt.error();
  out.statements.push_back(std::move(*stmt));
  return out;
}

result<write_request> decode_batch(std::string_view body) {
  unsigned char arena[arena_bytes];
  json::monotonic_resource resource(arena, sizeof arena);
  auto object = parse_object(body, &resource);
  if (!object) return object.error();
  auto list = decode_statement_list(*object);
  if (!list) return list.error();
  return write_request{std::move(*list), true};
}

}  // namespace monolite::proto
