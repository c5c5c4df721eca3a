// Encoding Hrana responses straight into a string (json_writer): values with integers as strings,
// statement and batch results, describe results, and the cursor's JSON lines.
#include <cmath>

#include "proto/base64.hpp"
#include "proto/hrana_encode.hpp"

#include "proto/hrana_decode.hpp"
#include "proto/json_writer.hpp"

namespace monolite::proto::hrana {
namespace {

void write_value(json_writer& w, const value& v) {
  struct visitor {
    json_writer& w;
    void operator()(std::monostate) const { w.raw(R"({"type":"null"})"); }
    void operator()(std::int64_t i) const { w.raw(R"({"type":"integer","value":")").integer(i).raw("\"}"); }
    void operator()(double d) const {
      w.raw(R"({"type":"float","value":)");
      // JSON has no infinities; 1e999 is valid JSON that JavaScript reads back as Infinity.
      if (std::isinf(d))
        w.raw(d > 0 ? "1e999" : "-1e999");
      else
        w.number(d);
      w.raw("}");
    }
    void operator()(const std::string& s) const { w.raw(R"({"type":"text","value":)").string(s).raw("}"); }
    void operator()(const blob& b) const {
      w.raw(R"({"type":"blob","base64":")").raw(base64_encode(b.bytes)).raw("\"}");
    }
    // Hrana values have no boolean; libSQL clients read 1/0 as SQLite's booleans.
    void operator()(bool b) const {
      w.raw(b ? R"({"type":"integer","value":"1"})" : R"({"type":"integer","value":"0"})");
    }
  };
  std::visit(visitor{w}, v);
}

void write_optional(json_writer& w, const std::string& text) {
  if (text.empty())
    w.raw("null");
  else
    w.string(text);
}

void write_error(json_writer& w, const error& e) {
  w.raw(R"({"message":)").string(e.message).raw(R"(,"code":)").string(e.code).raw("}");
}

void write_cols(json_writer& w, const std::vector<std::string>& names, const std::vector<std::string>& decltypes) {
  w.raw("[");
  for (std::size_t i = 0; i < names.size(); ++i) {
    w.raw(i ? R"(,{"name":)" : R"({"name":)").string(names[i]).raw(R"(,"decltype":)");
    write_optional(w, i < decltypes.size() ? decltypes[i] : std::string());
    w.raw("}");
  }
  w.raw("]");
}

void write_row(json_writer& w, const std::vector<value>& row) {
  w.raw("[");
  for (std::size_t c = 0; c < row.size(); ++c) {
    if (c) w.raw(",");
    write_value(w, row[c]);
  }
  w.raw("]");
}

// affected_row_count and last_insert_rowid (null when the statement inserted nothing ever).
void write_counts(json_writer& w, const statement_result& r) {
  w.raw(R"("affected_row_count":)").integer(r.rows_affected).raw(R"(,"last_insert_rowid":)");
  if (r.last_insert_id.value_or(0) == 0)
    w.raw("null");
  else
    w.raw("\"").integer(*r.last_insert_id).raw("\"");
}

void write_stmt_result(json_writer& w, const statement_result& r) {
  w.raw(R"({"cols":)");
  write_cols(w, r.columns, r.decltypes);
  w.raw(R"(,"rows":[)");
  for (std::size_t i = 0; i < r.rows.size(); ++i) {
    if (i) w.raw(",");
    write_row(w, r.rows[i]);
  }
  w.raw("],");
  write_counts(w, r);
  w.raw("}");
}

void write_batch_result(json_writer& w, const std::vector<step_outcome>& steps) {
  w.raw(R"({"step_results":[)");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (i) w.raw(",");
    if (steps[i].status == step_outcome::state::ok)
      write_stmt_result(w, steps[i].result);
    else
      w.raw("null");
  }
  w.raw(R"(],"step_errors":[)");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (i) w.raw(",");
    if (steps[i].status == step_outcome::state::failed)
      write_error(w, steps[i].failure);
    else
      w.raw("null");
  }
  w.raw("]}");
}

void write_description(json_writer& w, const statement_description& d) {
  w.raw(R"({"params":[)");
  for (std::size_t i = 0; i < d.params.size(); ++i) {
    w.raw(i ? R"(,{"name":)" : R"({"name":)");
    write_optional(w, d.params[i]);
    w.raw("}");
  }
  w.raw(R"(],"cols":)");
  write_cols(w, d.columns, d.decltypes);
  w.raw(R"(,"is_explain":)").raw(d.is_explain ? "true" : "false");
  w.raw(R"(,"is_readonly":)").raw(d.is_readonly ? "true" : "false").raw("}");
}

void write_response(json_writer& w, const stream_result& r) {
  w.raw(R"({"type":")").raw(request_name(r.kind)).raw("\"");
  switch (r.kind) {
    case request_kind::execute:
      w.raw(R"(,"result":)");
      write_stmt_result(w, r.stmt);
      break;
    case request_kind::batch:
      w.raw(R"(,"result":)");
      write_batch_result(w, r.steps);
      break;
    case request_kind::describe:
      w.raw(R"(,"result":)");
      write_description(w, r.description);
      break;
    case request_kind::get_autocommit: w.raw(R"(,"is_autocommit":)").raw(r.is_autocommit ? "true" : "false"); break;
    default: break;
  }
  w.raw("}");
}

void write_baton_head(json_writer& w, const std::optional<std::string>& baton) {
  w.raw(R"({"baton":)");
  if (baton)
    w.string(*baton);
  else
    w.raw("null");
  w.raw(R"(,"base_url":null)");
}

}  // namespace

std::string encode_pipeline_response(const std::optional<std::string>& baton,
                                     const std::vector<stream_result>& results) {
  std::string out;
  json_writer w(out);
  write_baton_head(w, baton);
  w.raw(R"(,"results":[)");
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i) w.raw(",");
    if (results[i].failure) {
      w.raw(R"({"type":"error","error":)");
      write_error(w, *results[i].failure);
    } else {
      w.raw(R"({"type":"ok","response":)");
      write_response(w, results[i]);
    }
    w.raw("}");
  }
  w.raw("]}");
  return out;
}

std::string encode_cursor_response(const std::optional<std::string>& baton, const std::vector<step_outcome>& steps,
                                   const std::optional<error>& failure) {
  std::string out;
  json_writer w(out);
  write_baton_head(w, baton);
  w.raw("}\n");
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& step = steps[i];
    if (step.status == step_outcome::state::failed) {
      w.raw(R"({"type":"step_error","step":)").integer(static_cast<std::int64_t>(i)).raw(R"(,"error":)");
      write_error(w, step.failure);
      w.raw("}\n");
    } else if (step.status == step_outcome::state::ok) {
      w.raw(R"({"type":"step_begin","step":)").integer(static_cast<std::int64_t>(i)).raw(R"(,"cols":)");
      write_cols(w, step.result.columns, step.result.decltypes);
      w.raw("}\n");
      for (const auto& row : step.result.rows) {
        w.raw(R"({"type":"row","row":)");
        write_row(w, row);
        w.raw("}\n");
      }
      w.raw(R"({"type":"step_end",)");
      write_counts(w, step.result);
      w.raw("}\n");
    }
  }
  if (failure) {
    w.raw(R"({"type":"error","error":)");
    write_error(w, *failure);
    w.raw("}\n");
  }
  return out;
}

std::string encode_http_error(const api_error& e) {
  std::string out;
  json_writer w(out);
  w.raw(R"({"message":)").string(e.message).raw(R"(,"code":)").string(e.code);
  w.raw(R"(,"error":{"code":)").string(e.code).raw(R"(,"message":)").string(e.message).raw("}}");
  return out;
}

error from_api_error(const api_error& e) {
  std::string code = e.code;
  if (code.rfind("SQLITE_", 0) == 0) {
    if (const auto cut = code.find('_', 7); cut != std::string::npos) code.resize(cut);
  } else if (code == "BAD_PARAMS") {
    code = "ARGS_INVALID";
  } else if (code == "RESULT_TOO_LARGE") {
    code = "RESPONSE_TOO_LARGE";
  } else if (code == "READONLY") {
    code = "SQLITE_READONLY";
  }
  return {e.message, std::move(code)};
}

}  // namespace monolite::proto::hrana
