// Decoding Hrana pipeline and cursor bodies. A malformed body is one HTTP error; a malformed or
// unknown request inside a good body is an error for that request alone, so the others still run.
#include <boost/json/parse.hpp>
#include <charconv>
#include <limits>

#include "proto/base64.hpp"
#include "proto/hrana_decode.hpp"

namespace monolite::proto::hrana {
namespace json = boost::json;
namespace {

template <class T>
using res = boost::system::result<T, error>;

error invalid(std::string message) { return {std::move(message), "INVALID_REQUEST"}; }

const json::value* field(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && !v->is_null() ? v : nullptr;
}

res<std::optional<std::string>> optional_string(const json::object& o, std::string_view key) {
  const auto* v = field(o, key);
  if (!v) return std::optional<std::string>{};
  if (!v->is_string()) return invalid("\"" + std::string(key) + "\" must be a string");
  return std::optional<std::string>{std::string(v->get_string())};
}

res<std::optional<std::int64_t>> optional_integer(const json::object& o, std::string_view key, std::int64_t min,
                                                  std::int64_t max) {
  const auto* v = field(o, key);
  if (!v) return std::optional<std::int64_t>{};
  std::int64_t n = 0;
  if (v->is_int64())
    n = v->get_int64();
  else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max))
    n = static_cast<std::int64_t>(v->get_uint64());
  else
    return invalid("\"" + std::string(key) + "\" must be an integer");
  if (n < min || n > max) return invalid("\"" + std::string(key) + "\" is out of range");
  return std::optional<std::int64_t>{n};
}

res<std::optional<std::int32_t>> optional_sql_id(const json::object& o) {
  auto id =
      optional_integer(o, "sql_id", std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max());
  if (!id) return id.error();
  if (!*id) return std::optional<std::int32_t>{};
  return std::optional<std::int32_t>{static_cast<std::int32_t>(**id)};
}

res<value> decode_integer(const json::value& v) {
  if (v.is_int64()) return value{v.get_int64()};
  if (!v.is_string()) return invalid("an integer value must be a string of digits");
  const auto text = std::string_view(v.get_string());
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty())
    return invalid("integer value \"" + std::string(text) + "\" is not a signed 64-bit integer");
  return value{n};
}

res<value> decode_typed_value(std::string_view type, const json::object& o) {
  if (type == "null") return value{std::monostate{}};
  if (type == "text") {
    const auto* v = field(o, "value");
    if (!v || !v->is_string()) return invalid("a text value needs a string \"value\"");
    return value{std::string(v->get_string())};
  }
  if (type == "float") {
    const auto* v = field(o, "value");
    if (!v || !v->is_number()) return invalid("a float value needs a number \"value\"");
    return value{v->to_number<double>()};
  }
  if (type == "integer") {
    const auto* v = field(o, "value");
    if (!v) return invalid("an integer value needs a \"value\"");
    return decode_integer(*v);
  }
  if (type == "blob") {
    const auto* v = field(o, "base64");
    if (!v || !v->is_string()) return invalid("a blob value needs a string \"base64\"");
    auto bytes = base64_decode_any_padding(v->get_string());
    if (!bytes) return invalid("a blob value holds invalid base64");
    return value{blob{std::move(*bytes)}};
  }
  return invalid("unknown value type \"" + std::string(type) + "\"");
}

res<value> decode_value(const json::value& v) {
  if (!v.is_object()) return invalid("a value must be an object with a \"type\"");
  const auto* type = field(v.get_object(), "type");
  if (!type || !type->is_string()) return invalid("a value must be an object with a \"type\"");
  return decode_typed_value(type->get_string(), v.get_object());
}

res<void> decode_args(const json::object& o, stmt& out) {
  if (const auto* args = field(o, "args")) {
    if (!args->is_array()) return invalid("\"args\" must be an array");
    for (const auto& item : args->get_array()) {
      auto v = decode_value(item);
      if (!v) return v.error();
      out.args.push_back(std::move(*v));
    }
  }
  if (const auto* named = field(o, "named_args")) {
    if (!named->is_array()) return invalid("\"named_args\" must be an array");
    for (const auto& item : named->get_array()) {
      const auto* name = item.is_object() ? field(item.get_object(), "name") : nullptr;
      const auto* val = item.is_object() ? field(item.get_object(), "value") : nullptr;
      if (!name || !name->is_string() || !val) return invalid("each named argument needs \"name\" and \"value\"");
      auto v = decode_value(*val);
      if (!v) return v.error();
      out.named_args.push_back({std::string(name->get_string()), std::move(*v)});
    }
  }
  return {};
}

res<stmt> decode_stmt(const json::value* v) {
  if (!v || !v->is_object()) return invalid("\"stmt\" must be an object");
  const auto& o = v->get_object();
  stmt out;
  auto sql = optional_string(o, "sql");
  if (!sql) return sql.error();
  out.sql = std::move(*sql);
  auto id = optional_sql_id(o);
  if (!id) return id.error();
  out.sql_id = *id;
  if (auto ok = decode_args(o, out); !ok) return ok.error();
  if (const auto* want = field(o, "want_rows")) {
    if (!want->is_bool()) return invalid("\"want_rows\" must be a boolean");
    out.want_rows = want->get_bool();
  }
  return out;
}

// `before`: the index of the step the condition guards; it may only look at earlier steps.
res<condition> decode_condition(const json::value& v, std::uint32_t before) {
  if (!v.is_object()) return invalid("a condition must be an object");
  const auto& o = v.get_object();
  const auto* type = field(o, "type");
  if (!type || !type->is_string()) return invalid("a condition needs a \"type\"");
  const std::string_view name = type->get_string();
  condition out;
  if (name == "ok" || name == "error") {
    out.type = name == "ok" ? condition::kind::ok : condition::kind::error;
    auto step = optional_integer(o, "step", 0, std::numeric_limits<std::uint32_t>::max());
    if (!step || !*step) return invalid("an \"" + std::string(name) + "\" condition needs a \"step\"");
    out.step = static_cast<std::uint32_t>(**step);
    if (out.step >= before)
      return error{"a condition of step " + std::to_string(before) + " refers to step " + std::to_string(out.step) +
                       ", which does not run before it",
                   "BATCH_COND_BAD_STEP"};
    return out;
  }
  if (name == "is_autocommit") return condition{condition::kind::is_autocommit, 0, {}};
  if (name == "not") {
    const auto* inner = field(o, "cond");
    if (!inner) return invalid("a \"not\" condition needs a \"cond\"");
    auto c = decode_condition(*inner, before);
    if (!c) return c.error();
    return condition{condition::kind::not_, 0, {std::move(*c)}};
  }
  if (name != "and" && name != "or") return invalid("unknown condition type \"" + std::string(name) + "\"");
  out.type = name == "and" ? condition::kind::and_ : condition::kind::or_;
  const auto* conds = field(o, "conds");
  if (!conds || !conds->is_array()) return invalid("an \"" + std::string(name) + "\" condition needs \"conds\"");
  for (const auto& item : conds->get_array()) {
    auto c = decode_condition(item, before);
    if (!c) return c.error();
    out.conds.push_back(std::move(*c));
  }
  return out;
}

res<batch> decode_batch(const json::value* v) {
  const auto* steps = v && v->is_object() ? field(v->get_object(), "steps") : nullptr;
  if (!steps || !steps->is_array()) return invalid("\"batch\" must be an object with a \"steps\" array");
  batch out;
  for (const auto& item : steps->get_array()) {
    if (!item.is_object()) return invalid("each batch step must be an object");
    batch_step step;
    if (const auto* cond = field(item.get_object(), "condition")) {
      auto c = decode_condition(*cond, static_cast<std::uint32_t>(out.steps.size()));
      if (!c) return c.error();
      step.cond = std::move(*c);
    }
    auto s = decode_stmt(field(item.get_object(), "stmt"));
    if (!s) return s.error();
    step.statement = std::move(*s);
    out.steps.push_back(std::move(step));
  }
  return out;
}

res<void> decode_sql_fields(const json::object& o, stream_request& out) {
  auto sql = optional_string(o, "sql");
  if (!sql) return sql.error();
  out.sql = std::move(*sql);
  auto id = optional_sql_id(o);
  if (!id) return id.error();
  out.sql_id = *id;
  return {};
}

res<void> decode_request_fields(const json::object& o, stream_request& out) {
  switch (out.kind) {
    case request_kind::execute: {
      auto s = decode_stmt(field(o, "stmt"));
      if (!s) return s.error();
      out.statement = std::move(*s);
      return {};
    }
    case request_kind::batch: {
      auto b = decode_batch(field(o, "batch"));
      if (!b) return b.error();
      out.steps = std::move(*b);
      return {};
    }
    case request_kind::store_sql:
      if (auto ok = decode_sql_fields(o, out); !ok) return ok;
      if (!out.sql || !out.sql_id) return invalid("\"store_sql\" needs \"sql_id\" and \"sql\"");
      return {};
    case request_kind::close_sql:
      if (auto ok = decode_sql_fields(o, out); !ok) return ok;
      if (!out.sql_id) return invalid("\"close_sql\" needs \"sql_id\"");
      return {};
    case request_kind::sequence:
    case request_kind::describe: return decode_sql_fields(o, out);
    default: return {};
  }
}

std::optional<request_kind> kind_named(std::string_view name) {
  for (auto k : {request_kind::execute, request_kind::batch, request_kind::sequence, request_kind::describe,
                 request_kind::store_sql, request_kind::close_sql, request_kind::get_autocommit, request_kind::close})
    if (request_name(k) == name) return k;
  return std::nullopt;
}

decoded_request decode_request(const json::value& v) {
  const auto* type = v.is_object() ? field(v.get_object(), "type") : nullptr;
  if (!type || !type->is_string()) return invalid("each request must be an object with a string \"type\"");
  auto kind = kind_named(type->get_string());
  if (!kind)
    return error{"unknown request type \"" + std::string(type->get_string()) +
                     "\"; this server knows execute, batch, sequence, describe, store_sql, close_sql, "
                     "get_autocommit and close",
                 "UNKNOWN_REQUEST"};
  stream_request out;
  out.kind = *kind;
  if (auto ok = decode_request_fields(v.get_object(), out); !ok) return ok.error();
  return out;
}

result<json::object> parse_body(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (ec) return bad_json("request body is not valid JSON: " + ec.message());
  if (!parsed.is_object()) return bad_request("request body must be a JSON object");
  return std::move(parsed.get_object());
}

// The body's object, with its baton (absent or null: a new stream) already read into `baton`.
result<json::object> parse_with_baton(std::string_view body, std::optional<std::string>& baton) {
  auto object = parse_body(body);
  if (!object) return object.error();
  if (const auto* b = field(*object, "baton")) {
    if (!b->is_string()) return api_error{400, "BATON_INVALID", "\"baton\" must be a string or null"};
    baton = std::string(b->get_string());
  }
  return object;
}

}  // namespace

std::string_view request_name(request_kind kind) {
  switch (kind) {
    case request_kind::execute: return "execute";
    case request_kind::batch: return "batch";
    case request_kind::sequence: return "sequence";
    case request_kind::describe: return "describe";
    case request_kind::store_sql: return "store_sql";
    case request_kind::close_sql: return "close_sql";
    case request_kind::get_autocommit: return "get_autocommit";
    case request_kind::close: return "close";
  }
  return "close";
}

result<pipeline_body> decode_pipeline(std::string_view body) {
  pipeline_body out;
  auto object = parse_with_baton(body, out.baton);
  if (!object) return object.error();
  const auto* requests = field(*object, "requests");
  if (!requests || !requests->is_array()) return bad_request("\"requests\" must be an array");
  for (const auto& item : requests->get_array())
    out.requests.push_back(decode_request(item));
  return out;
}

result<cursor_body> decode_cursor(std::string_view body) {
  cursor_body out;
  auto object = parse_with_baton(body, out.baton);
  if (!object) return object.error();
  if (!field(*object, "batch")) return bad_request("a cursor request needs a \"batch\"");
  out.steps = decode_batch(field(*object, "batch"));
  return out;
}

}  // namespace monolite::proto::hrana
