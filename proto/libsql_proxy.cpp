#include "proto/libsql_proxy.hpp"

#include <array>
#include <bit>
#include <utility>

#include "proto/protobuf_wire.hpp"
#include "proto/text.hpp"

namespace monolite::proto::libsql_proxy {
namespace {

using pb::wire_type;

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t v = 0;
  for (int i = 0; i < bytes; ++i)
    v |= std::uint64_t(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

void put_le(std::string& out, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

api_error malformed(std::string_view what) { return bad_request("malformed " + std::string(what) + " message"); }

api_error bad_value(std::string_view why) { return bad_params("bad bincode value: " + std::string(why)); }

// Calls `on` for each field of `message`; fails on malformed wire data or when `on` fails.
template <class On>
result<void> each_field(std::string_view message, std::string_view what, On&& on) {
  pb::reader r(message);
  while (auto f = r.next()) {
    if (auto ok = on(*f); !ok) return ok.error();
  }
  if (r.failed()) return malformed(what);
  return {};
}

// A known field must come with its declared wire type.
result<void> want(const pb::field& f, wire_type type, std::string_view what) {
  if (f.type == type) return {};
  return bad_request("field " + std::to_string(f.number) + " of " + std::string(what) + " has the wrong wire type");
}

result<value> decode_text_or_blob(std::uint64_t tag, std::string_view rest) {
  if (rest.size() < 8) return bad_value("truncated length");
  const auto size = get_le(rest, 0, 8);
  rest.remove_prefix(8);
  if (size > rest.size()) return bad_value("a length of " + std::to_string(size) + " beyond the data");
  if (size < rest.size()) return bad_value("bytes after the value");
  if (tag == 4) return value{blob{{rest.begin(), rest.end()}}};
  if (!is_valid_utf8(rest)) return bad_value("text that is not UTF-8");
  return value{std::string(rest)};
}

// Value{1 bytes data}.
result<value> decode_value_message(std::string_view message) {
  std::string_view data;
  auto ok = each_field(message, "Value", [&](const pb::field& f) -> result<void> {
    if (f.number != 1) return {};
    if (auto w = want(f, wire_type::length_delimited, "Value"); !w) return w;
    data = f.bytes;
    return {};
  });
  if (!ok) return ok.error();
  return decode_value(data);
}

// Positional{1 repeated Value}.
result<std::vector<value>> decode_positional(std::string_view message) {
  std::vector<value> values;
  auto ok = each_field(message, "Positional", [&](const pb::field& f) -> result<void> {
    if (f.number != 1) return {};
    if (auto w = want(f, wire_type::length_delimited, "Positional"); !w) return w;
    auto v = decode_value_message(f.bytes);
    if (!v) return v.error();
    values.push_back(std::move(*v));
    return {};
  });
  if (!ok) return ok.error();
  return values;
}

// Named{1 repeated string names, 2 repeated Value values}, paired in order.
result<std::vector<named_param>> decode_named(std::string_view message) {
  std::vector<std::string> names;
  std::vector<value> values;
  auto ok = each_field(message, "Named", [&](const pb::field& f) -> result<void> {
    if (f.number != 1 && f.number != 2) return {};
    if (auto w = want(f, wire_type::length_delimited, "Named"); !w) return w;
    if (f.number == 1) {
      names.emplace_back(f.bytes);
      return {};
    }
    auto v = decode_value_message(f.bytes);
    if (!v) return v.error();
    values.push_back(std::move(*v));
    return {};
  });
  if (!ok) return ok.error();
  if (names.size() != values.size())
    return bad_params(std::to_string(names.size()) + " parameter names for " + std::to_string(values.size()) +
                      " values");
  std::vector<named_param> out;
  for (std::size_t i = 0; i < names.size(); ++i)
    out.push_back({std::move(names[i]), std::move(values[i])});
  return out;
}

// Query{1 stmt, 2 Positional | 3 Named, 4 skip_rows}; of the oneof, the last one sent counts.
result<hrana::stmt> decode_query(std::string_view message) {
  hrana::stmt s;
  s.sql = std::string();
  auto ok = each_field(message, "Query", [&](const pb::field& f) -> result<void> {
    if (f.number < 1 || f.number > 4) return {};
    if (auto w = want(f, f.number == 4 ? wire_type::varint : wire_type::length_delimited, "Query"); !w) return w;
    if (f.number == 1) s.sql = std::string(f.bytes);
    if (f.number == 4) s.want_rows = f.number_value == 0;
    if (f.number == 2) {
      auto values = decode_positional(f.bytes);
      if (!values) return values.error();
      s.args = std::move(*values);
      s.named_args.clear();
    }
    if (f.number == 3) {
      auto named = decode_named(f.bytes);
      if (!named) return named.error();
      s.named_args = std::move(*named);
      s.args.clear();
    }
    return {};
  });
  if (!ok) return ok.error();
  return s;
}

result<hrana::condition> decode_cond(std::string_view message, std::uint32_t before, std::size_t depth);

// OkCond / ErrCond {1 int64 step}: only a step that runs before the one it guards.
result<std::uint32_t> decode_step_ref(std::string_view message, std::uint32_t before) {
  std::int64_t step = 0;
  auto ok = each_field(message, "OkCond", [&](const pb::field& f) -> result<void> {
    if (f.number != 1) return {};
    if (auto w = want(f, wire_type::varint, "OkCond"); !w) return w;
    step = static_cast<std::int64_t>(f.number_value);
    return {};
  });
  if (!ok) return ok.error();
  if (step < 0 || step >= std::int64_t(before))
    return bad_request("the condition of step " + std::to_string(before) + " refers to step " + std::to_string(step) +
                       ", which does not run before it");
  return result<std::uint32_t>(boost::system::in_place_value, static_cast<std::uint32_t>(step));
}

// NotCond{1 Cond} (exactly one), AndCond / OrCond {1 repeated Cond}.
result<std::vector<hrana::condition>> decode_conds(std::string_view message, std::uint32_t before, std::size_t depth,
                                                   bool exactly_one) {
  std::vector<hrana::condition> conds;
  auto ok = each_field(message, "Cond list", [&](const pb::field& f) -> result<void> {
    if (f.number != 1) return {};
    if (auto w = want(f, wire_type::length_delimited, "Cond list"); !w) return w;
    auto c = decode_cond(f.bytes, before, depth + 1);
    if (!c) return c.error();
    if (exactly_one) conds.clear();  // a repeated message field sent for a singular one: the last counts
    conds.push_back(std::move(*c));
    return {};
  });
  if (!ok) return ok.error();
  if (exactly_one && conds.empty()) return bad_request("a \"not\" condition without its condition");
  return conds;
}

// Cond{1 ok | 2 error | 3 not | 4 and | 5 or | 6 is_autocommit}.
result<hrana::condition> decode_cond(std::string_view message, std::uint32_t before, std::size_t depth) {
  using kind = hrana::condition::kind;
  if (depth > max_condition_depth)
    return bad_request("conditions nest deeper than " + std::to_string(max_condition_depth) + " levels");
  std::optional<hrana::condition> out;
  auto ok = each_field(message, "Cond", [&](const pb::field& f) -> result<void> {
    if (f.number < 1 || f.number > 6) return {};
    if (auto w = want(f, wire_type::length_delimited, "Cond"); !w) return w;
    if (f.number <= 2) {
      auto step = decode_step_ref(f.bytes, before);
      if (!step) return step.error();
      out = hrana::condition{f.number == 1 ? kind::ok : kind::error, *step, {}};
    } else if (f.number <= 5) {
      auto conds = decode_conds(f.bytes, before, depth, f.number == 3);
      if (!conds) return conds.error();
      out = hrana::condition{f.number == 3 ? kind::not_ : f.number == 4 ? kind::and_ : kind::or_, 0, std::move(*conds)};
    } else {
      out = hrana::condition{kind::is_autocommit, 0, {}};
    }
    return {};
  });
  if (!ok) return ok.error();
  if (!out) return bad_request("a condition of no known kind");
  return std::move(*out);
}

// Step{1 optional Cond, 2 Query}; `index`: the step's place in the program.
result<hrana::batch_step> decode_step(std::string_view message, std::uint32_t index) {
  hrana::batch_step step;
  bool has_query = false;
  auto ok = each_field(message, "Step", [&](const pb::field& f) -> result<void> {
    if (f.number != 1 && f.number != 2) return {};
    if (auto w = want(f, wire_type::length_delimited, "Step"); !w) return w;
    if (f.number == 1) {
      auto c = decode_cond(f.bytes, index, 1);
      if (!c) return c.error();
      step.cond = std::move(*c);
      return {};
    }
    auto q = decode_query(f.bytes);
    if (!q) return q.error();
    step.statement = std::move(*q);
    has_query = true;
    return {};
  });
  if (!ok) return ok.error();
  if (!has_query) return bad_request("step " + std::to_string(index) + " has no query");
  return step;
}

// Program{1 repeated Step}.
result<hrana::batch> decode_program(std::string_view message) {
  hrana::batch program;
  auto ok = each_field(message, "Program", [&](const pb::field& f) -> result<void> {
    if (f.number != 1) return {};
    if (auto w = want(f, wire_type::length_delimited, "Program"); !w) return w;
    if (program.steps.size() >= max_program_steps)
      return bad_request("a program takes at most " + std::to_string(max_program_steps) + " steps");
    auto step = decode_step(f.bytes, static_cast<std::uint32_t>(program.steps.size()));
    if (!step) return step.error();
    program.steps.push_back(std::move(*step));
    return {};
  });
  if (!ok) return ok.error();
  return program;
}

void put_column(pb::writer& w, std::uint32_t number, const std::string& name, const std::string* decltype_name) {
  w.message(number, [&](pb::writer& col) {
    col.bytes(1, name);
    if (decltype_name && !decltype_name->empty()) col.bytes(3, *decltype_name);
  });
}

void put_error(pb::writer& w, const query_error& e) {
  if (e.code != error_code::sql_error) w.varint(1, static_cast<std::uint32_t>(e.code));
  w.bytes(2, e.message);
  if (e.extended_code) w.sint64(3, e.extended_code);
}

// ResultRows{1 repeated Column, 2 repeated Row{1 repeated Value}, 3 affected_row_count, 4 last_insert_rowid}.
void put_rows(pb::writer& w, const statement_result& r) {
  for (std::size_t i = 0; i < r.columns.size(); ++i)
    put_column(w, 1, r.columns[i], i < r.decltypes.size() ? &r.decltypes[i] : nullptr);
  for (const auto& row : r.rows) {
    w.message(2, [&](pb::writer& m) {
      for (const auto& v : row)
        m.message(1, [&](pb::writer& val) { val.bytes(1, encode_value(v)); });
    });
  }
  if (r.rows_affected) w.varint(3, static_cast<std::uint64_t>(r.rows_affected));
  if (r.last_insert_id) w.sint64(4, *r.last_insert_id);
}

}  // namespace

std::string encode_value(const value& v) {
  std::string out;
  const auto fixed = [&](std::uint32_t tag, std::uint64_t bits) {
    put_le(out, tag, 4);
    put_le(out, bits, 8);
  };
  const auto sized = [&](std::uint32_t tag, std::string_view bytes) {
    put_le(out, tag, 4);
    put_le(out, bytes.size(), 8);
    out.append(bytes);
  };
  if (v.index() == 0) put_le(out, 0, 4);
  if (const auto* i = std::get_if<std::int64_t>(&v)) fixed(1, static_cast<std::uint64_t>(*i));
  if (const auto* d = std::get_if<double>(&v)) fixed(2, std::bit_cast<std::uint64_t>(*d));
  if (const auto* t = std::get_if<std::string>(&v)) sized(3, *t);
  if (const auto* b = std::get_if<blob>(&v))
    sized(4, std::string_view(reinterpret_cast<const char*>(b->bytes.data()), b->bytes.size()));
  if (const auto* flag = std::get_if<bool>(&v)) fixed(1, *flag ? 1 : 0);
  return out;
}

result<value> decode_value(std::string_view data) {
  if (data.size() < 4) return bad_value("shorter than its 4-byte tag");
  const auto tag = get_le(data, 0, 4);
  auto rest = data.substr(4);
  const auto fixed = [&](std::size_t size) { return rest.size() == size; };
  switch (tag) {
    case 0:
      if (!fixed(0)) return bad_value("bytes after the value");
      return value{};
    case 1:
      if (!fixed(8)) return bad_value("an integer is 8 bytes");
      return value{static_cast<std::int64_t>(get_le(rest, 0, 8))};
    case 2:
      if (!fixed(8)) return bad_value("a real is 8 bytes");
      return value{std::bit_cast<double>(get_le(rest, 0, 8))};
    case 3:
    case 4: return decode_text_or_blob(tag, rest);
  }
  return bad_value("unknown tag " + std::to_string(tag));
}

result<describe_request> decode_describe_request(std::string_view message) {
  describe_request out;
  auto ok = each_field(message, "DescribeRequest", [&](const pb::field& f) -> result<void> {
    if (f.number != 1 && f.number != 2) return {};
    if (auto w = want(f, wire_type::length_delimited, "DescribeRequest"); !w) return w;
    (f.number == 1 ? out.client_id : out.stmt) = std::string(f.bytes);
    return {};
  });
  if (!ok) return ok.error();
  return out;
}

result<program_request> decode_program_request(std::string_view message) {
  program_request out;
  auto ok = each_field(message, "ProgramReq", [&](const pb::field& f) -> result<void> {
    if (f.number != 1 && f.number != 2) return {};
    if (auto w = want(f, wire_type::length_delimited, "ProgramReq"); !w) return w;
    if (f.number == 1) {
      out.client_id = std::string(f.bytes);
      return {};
    }
    auto program = decode_program(f.bytes);
    if (!program) return program.error();
    out.program = std::move(*program);
    return {};
  });
  if (!ok) return ok.error();
  return out;
}

result<std::string> decode_disconnect(std::string_view message) {
  std::string client_id;
  auto ok = each_field(message, "DisconnectMessage", [&](const pb::field& f) -> result<void> {
    if (f.number != 1) return {};
    if (auto w = want(f, wire_type::length_delimited, "DisconnectMessage"); !w) return w;
    client_id = std::string(f.bytes);
    return {};
  });
  if (!ok) return ok.error();
  return client_id;
}

std::string encode(const execute_results& results) {
  pb::writer w;
  for (const auto& r : results.results) {
    w.message(1, [&](pb::writer& q) {
      if (const auto* rows = std::get_if<statement_result>(&r))
        q.message(2, [&](pb::writer& m) { put_rows(m, *rows); });
      if (const auto* e = std::get_if<query_error>(&r)) q.message(1, [&](pb::writer& m) { put_error(m, *e); });
    });
  }
  if (results.state != txn_state::init) w.varint(2, static_cast<std::uint32_t>(results.state));
  if (results.current_frame_no) w.varint(3, *results.current_frame_no);
  return w.take();
}

std::string encode_description(const statement_description& description) {
  pb::writer w;
  w.message(2, [&](pb::writer& d) {
    for (std::size_t i = 0; i < description.columns.size(); ++i)
      put_column(d, 1, description.columns[i], i < description.decltypes.size() ? &description.decltypes[i] : nullptr);
    d.bytes(2, "");  // the 1-based pad
    for (const auto& name : description.params)
      d.bytes(2, name);
    if (!description.params.empty()) d.varint(3, description.params.size());
  });
  return w.take();
}

std::string encode_describe_error(const query_error& error) {
  pb::writer w;
  w.message(1, [&](pb::writer& m) { put_error(m, error); });
  return w.take();
}

std::int32_t sqlite_result_code(std::string_view code_name) {
  static constexpr std::array<std::string_view, 26> names = {
      "ERROR",      "INTERNAL", "PERM",     "ABORT", "BUSY",     "LOCKED",   "NOMEM", "READONLY", "INTERRUPT",
      "IOERR",      "CORRUPT",  "NOTFOUND", "FULL",  "CANTOPEN", "PROTOCOL", "EMPTY", "SCHEMA",   "TOOBIG",
      "CONSTRAINT", "MISMATCH", "MISUSE",   "NOLFS", "AUTH",     "FORMAT",   "RANGE", "NOTADB"};
  constexpr std::string_view prefix = "SQLITE_";
  if (code_name.substr(0, prefix.size()) != prefix) return 0;
  auto name = code_name.substr(prefix.size());
  name = name.substr(0, name.find('_'));
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return static_cast<std::int32_t>(i + 1);
  return 0;
}

}  // namespace monolite::proto::libsql_proxy
