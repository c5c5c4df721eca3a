#include "db/statement.hpp"

#include <sqlite3.h>

#include "db/error.hpp"

namespace monolite::db {
namespace {

// Leaves a cached statement ready for its next use, whatever path we leave by.
class reset_on_exit {
 public:
  explicit reset_on_exit(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~reset_on_exit() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  reset_on_exit(const reset_on_exit&) = delete;
  reset_on_exit& operator=(const reset_on_exit&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

int bind_value(sqlite3_stmt* stmt, int index, const proto::value& v) {
  struct visitor {
    sqlite3_stmt* stmt;
    int index;
    int operator()(std::monostate) const { return sqlite3_bind_null(stmt, index); }
    int operator()(std::int64_t i) const { return sqlite3_bind_int64(stmt, index, i); }
    // SQLite has no boolean: true and false are the integers 1 and 0, as in SQLite's own TRUE/FALSE.
    int operator()(bool b) const { return sqlite3_bind_int64(stmt, index, b ? 1 : 0); }
    int operator()(double d) const { return sqlite3_bind_double(stmt, index, d); }
    // SQLITE_STATIC: the request outlives the statement's use; bindings are cleared on exit.
    int operator()(const std::string& s) const {
      return sqlite3_bind_text64(stmt, index, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    int operator()(const proto::blob& b) const {
      if (b.bytes.empty()) return sqlite3_bind_zeroblob(stmt, index, 0);  // a null pointer binds NULL
      return sqlite3_bind_blob64(stmt, index, b.bytes.data(), b.bytes.size(), SQLITE_STATIC);
    }
  };
  return std::visit(visitor{stmt, index}, v);
}

int named_index(sqlite3_stmt* stmt, const std::string& name) {
  if (!name.empty() && (name[0] == ':' || name[0] == '@' || name[0] == '$'))
    return sqlite3_bind_parameter_index(stmt, name.c_str());
  for (const char* prefix : {":", "@", "$"})
    if (int index = sqlite3_bind_parameter_index(stmt, (prefix + name).c_str())) return index;
  return 0;
}

proto::result<void> bind_named(sqlite3_stmt* stmt, const proto::statement& statement) {
  const int count = sqlite3_bind_parameter_count(stmt);
  std::vector<bool> bound(static_cast<std::size_t>(count) + 1, false);
  for (const auto& param : statement.named) {
    const int index = named_index(stmt, param.name);
    if (index == 0) return proto::bad_params("the statement has no parameter named \"" + param.name + "\"");
    if (bind_value(stmt, index, param.val) != SQLITE_OK) return sqlite_error(sqlite3_db_handle(stmt));
    bound[index] = true;
  }
  for (int i = 1; i <= count; ++i) {
    if (bound[i]) continue;
    const char* name = sqlite3_bind_parameter_name(stmt, i);
    return proto::bad_params("no value for parameter " + (name ? std::string(name) : "?" + std::to_string(i)));
  }
  return {};
}

proto::result<void> bind_params(sqlite3_stmt* stmt, const proto::statement& statement) {
  if (!statement.named.empty()) return bind_named(stmt, statement);
  const auto expected = static_cast<std::size_t>(sqlite3_bind_parameter_count(stmt));
  if (statement.positional.size() != expected)
    return proto::bad_params("the statement takes " + std::to_string(expected) + " parameters, got " +
                             std::to_string(statement.positional.size()));
  for (std::size_t i = 0; i < expected; ++i)
    if (bind_value(stmt, static_cast<int>(i + 1), statement.positional[i]) != SQLITE_OK)
      return sqlite_error(sqlite3_db_handle(stmt));
  return {};
}

proto::value column_value(sqlite3_stmt* stmt, int column) {
  switch (sqlite3_column_type(stmt, column)) {
    case SQLITE_INTEGER: return std::int64_t{sqlite3_column_int64(stmt, column)};
    case SQLITE_FLOAT: return sqlite3_column_double(stmt, column);
    case SQLITE_TEXT: {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, column));
      return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
    }
    case SQLITE_BLOB: {
      const auto* data = static_cast<const unsigned char*>(sqlite3_column_blob(stmt, column));
      return proto::blob{{data, data + sqlite3_column_bytes(stmt, column)}};
    }
    default: return std::monostate{};
  }
}

std::size_t approximate_bytes(const proto::value& v) {
  if (const auto* text = std::get_if<std::string>(&v)) return text->size() + 2;
  if (const auto* b = std::get_if<proto::blob>(&v)) return b->bytes.size() * 4 / 3 + 14;
  return 8;
}

// Column names are read after the first step: a step may re-prepare the statement after a schema
// change, and then the cached names would describe the old shape.
std::string text_or_empty(const char* text) { return text ? std::string(text) : std::string(); }

proto::result<void> step_all(connection& conn, sqlite3_stmt* stmt, run_options options, proto::statement_result& out) {
  const auto& limits = conn.options();
  std::size_t bytes = 0;
  int rc = sqlite3_step(stmt);
  const int columns = sqlite3_column_count(stmt);
  out.columns.reserve(static_cast<std::size_t>(columns));
  for (int c = 0; c < columns; ++c)
    out.columns.emplace_back(sqlite3_column_name(stmt, c));
  if (options.column_types)
    for (int c = 0; c < columns; ++c)
      out.decltypes.push_back(text_or_empty(sqlite3_column_decltype(stmt, c)));
  for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
    if (!options.want_rows) continue;
    auto& row = out.rows.emplace_back();
    row.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c)
      bytes += approximate_bytes(row.emplace_back(column_value(stmt, c)));
    if ((limits.max_result_rows && out.rows.size() > limits.max_result_rows) ||
        (limits.max_result_bytes && bytes > limits.max_result_bytes))
      return proto::api_error{400, "RESULT_TOO_LARGE",
                              "the result exceeds " + std::to_string(limits.max_result_rows) + " rows or " +
                                  std::to_string(limits.max_result_bytes) + " bytes; add a LIMIT or page with a WHERE"};
  }
  if (rc == SQLITE_INTERRUPT && conn.timed_out())
    return proto::api_error{504, "SQLITE_INTERRUPT",
                            "the statement ran longer than the statement timeout (" +
                                std::to_string(limits.statement_timeout.count()) + " ms) and was stopped"};
  if (rc != SQLITE_DONE) return sqlite_error(sqlite3_db_handle(stmt));
  return {};
}

// Arms the connection's statement deadline for the lifetime of one client statement.
class deadline_scope {
 public:
  explicit deadline_scope(connection& conn) : conn_(conn) { conn_.arm_deadline(); }
  ~deadline_scope() { conn_.clear_deadline(); }
  deadline_scope(const deadline_scope&) = delete;
  deadline_scope& operator=(const deadline_scope&) = delete;

 private:
  connection& conn_;
};

}  // namespace

proto::result<proto::statement_result> run_statement(connection& conn, const proto::statement& statement,
                                                     run_options options) {
  auto prepared = conn.prepare_api(statement.sql);
  if (!prepared) return prepared.error();
  sqlite3_stmt* stmt = *prepared;
  reset_on_exit reset(stmt);
  const bool read_only = sqlite3_stmt_readonly(stmt) != 0;
  if (options.require_read_only && !read_only)
    return proto::api_error{400, "READONLY", "this statement writes; send it to /sql/execute"};
  if (auto bound = bind_params(stmt, statement); !bound) return bound.error();

  proto::statement_result out;
  const auto changes_before = sqlite3_total_changes64(conn.handle());
  deadline_scope deadline(conn);
  if (auto stepped = step_all(conn, stmt, options, out); !stepped) return stepped.error();
  if (!read_only) {
    // sqlite3_changes64 keeps the last DML's count across DDL, so ask only when rows changed.
    if (sqlite3_total_changes64(conn.handle()) != changes_before) out.rows_affected = sqlite3_changes64(conn.handle());
    out.last_insert_id = sqlite3_last_insert_rowid(conn.handle());
  }
  return out;
}

proto::result<proto::statement_description> describe_statement(connection& conn, const std::string& sql) {
  auto prepared = conn.prepare_api(sql);
  if (!prepared) return prepared.error();
  sqlite3_stmt* stmt = *prepared;
  proto::statement_description out;
  for (int i = 1, n = sqlite3_bind_parameter_count(stmt); i <= n; ++i)
    out.params.push_back(text_or_empty(sqlite3_bind_parameter_name(stmt, i)));
  for (int c = 0, n = sqlite3_column_count(stmt); c < n; ++c) {
    out.columns.push_back(text_or_empty(sqlite3_column_name(stmt, c)));
    out.decltypes.push_back(text_or_empty(sqlite3_column_decltype(stmt, c)));
  }
  out.is_explain = sqlite3_stmt_isexplain(stmt) > 0;
  out.is_readonly = sqlite3_stmt_readonly(stmt) != 0;
  return out;
}

}  // namespace monolite::db
