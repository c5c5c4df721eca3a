#include "actors/hrana_exec.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>

#include "db/sql_text.hpp"
#include "db/statement.hpp"

namespace monolite::actors::hrana {
namespace {

using db::transaction_control;

ph::error make_error(std::string code, std::string message) { return {std::move(message), std::move(code)}; }

void fail(ph::step_outcome& out, ph::error e) {
  out.status = ph::step_outcome::state::failed;
  out.failure = std::move(e);
}

void succeed(ph::step_outcome& out, proto::statement_result r = {}) {
  out.status = ph::step_outcome::state::ok;
  out.result = std::move(r);
}

bool in_autocommit(db::connection& conn, place where) {
  return where == place::shared_reader || sqlite3_get_autocommit(conn.handle()) != 0;
}

ph::error readonly_error(const stream_settings& settings) {
  return make_error("SQLITE_READONLY", settings.read_only
                                           ? "this token's role is read: statements that write are refused"
                                           : "the transaction is read-only (BEGIN TRANSACTION READONLY)");
}

// A hint only: a statement starting with one of these goes straight to the writer; any other that
// turns out to write on a shared reader is moved there after SQLite said so.
bool writes_by_keyword(const std::string& sql) {
  static constexpr std::array<std::string_view, 9> writing = {"INSERT", "UPDATE", "DELETE",  "REPLACE", "CREATE",
                                                              "DROP",   "ALTER",  "REINDEX", "ANALYZE"};
  const auto word = db::first_keyword(sql);
  return std::find(writing.begin(), writing.end(), word) != writing.end();
}

std::optional<place> elsewhere(const step& s, place where, bool autocommit, const stream_settings& settings) {
  if (s.invalid) return std::nullopt;
  const auto tc = db::classify_transaction(s.stmt.sql);
  if (db::is_begin(tc)) {
    const bool writes = tc == transaction_control::begin_immediate || tc == transaction_control::begin_exclusive;
    if (!autocommit || (settings.read_only && writes)) return std::nullopt;  // refused where we are
    const place target =
        tc == transaction_control::begin_readonly || settings.read_only ? place::pinned : place::writer;
    return target == where ? std::nullopt : std::optional<place>(target);
  }
  if (tc != transaction_control::none || db::foreign_keys_setting(s.stmt.sql)) return std::nullopt;
  if (where == place::shared_reader && !settings.read_only && writes_by_keyword(s.stmt.sql)) return place::writer;
  return std::nullopt;
}

void exec_into(db::connection& conn, const std::string& sql, ph::step_outcome& out) {
  if (auto ok = conn.exec(sql); !ok) return fail(out, ph::from_api_error(ok.error()));
  succeed(out);
}

void run_begin(db::connection& conn, place where, transaction_control tc, ph::step_outcome& out,
               const stream_settings& settings) {
  if (settings.read_only && (tc == transaction_control::begin_immediate || tc == transaction_control::begin_exclusive))
    return fail(out, make_error("SQLITE_READONLY", "this token's role is read: it cannot open a write transaction"));
  if (!in_autocommit(conn, where))
    return fail(out, make_error("SQLITE_ERROR", "cannot start a transaction within a transaction"));
  if (where != place::writer) return exec_into(conn, "BEGIN DEFERRED", out);
  exec_into(conn,
            tc == transaction_control::begin_immediate   ? "BEGIN IMMEDIATE"
            : tc == transaction_control::begin_exclusive ? "BEGIN EXCLUSIVE"
                                                         : "BEGIN DEFERRED",
            out);
}

void run_end(db::connection& conn, place where, transaction_control tc, ph::step_outcome& out) {
  const bool commit = tc == transaction_control::commit;
  if (in_autocommit(conn, where))
    return fail(out, make_error("SQLITE_ERROR", commit ? "cannot commit - no transaction is active"
                                                       : "cannot rollback - no transaction is active"));
  exec_into(conn, commit ? "COMMIT" : "ROLLBACK", out);
}

// As SQLite: a no-op inside a transaction. Outside one it becomes the stream's setting, applied
// whenever the stream runs on the writer (and never to a shared connection's other users).
void run_foreign_keys(db::connection& conn, place where, bool on, ph::step_outcome& out, stream_settings& settings) {
  if (in_autocommit(conn, where)) {
    settings.foreign_keys = on;
    if (where == place::writer) return exec_into(conn, on ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF", out);
  }
  succeed(out);
}

std::optional<place> run_statement_step(db::connection& conn, place where, const step& s, ph::step_outcome& out,
                                        const stream_settings& settings) {
  auto r = db::run_statement(conn, s.stmt, {where != place::writer, s.want_rows, true});
  if (r) {
    succeed(out, std::move(*r));
    return std::nullopt;
  }
  if (r.error().code == "READONLY") {
    if (where == place::shared_reader && !settings.read_only) return place::writer;
    fail(out, readonly_error(settings));
    return std::nullopt;
  }
  fail(out, statement_error(r.error(), s.stmt.sql));
  return std::nullopt;
}

std::optional<place> run_step(db::connection& conn, place where, const step& s, ph::step_outcome& out,
                              stream_settings& settings) {
  if (s.invalid) {
    fail(out, *s.invalid);
    return std::nullopt;
  }
  const auto tc = db::classify_transaction(s.stmt.sql);
  if (db::is_begin(tc))
    run_begin(conn, where, tc, out, settings);
  else if (tc != transaction_control::none)
    run_end(conn, where, tc, out);
  else if (auto fk = db::foreign_keys_setting(s.stmt.sql))
    run_foreign_keys(conn, where, *fk, out, settings);
  else
    return run_statement_step(conn, where, s, out, settings);
  return std::nullopt;
}

}  // namespace

void run_steps(db::connection& conn, place where, batch_run& run, stream_settings& settings) {
  run.move_to.reset();
  run.outcomes.resize(run.steps.size());
  if (where == place::writer && settings.foreign_keys && in_autocommit(conn, where))
    (void)conn.exec(*settings.foreign_keys ? "PRAGMA foreign_keys=ON" : "PRAGMA foreign_keys=OFF");
  for (; run.next < run.steps.size(); ++run.next) {
    const auto& s = run.steps[run.next];
    auto& out = run.outcomes[run.next];
    const bool autocommit = in_autocommit(conn, where);
    if (s.cond && !condition_holds(*s.cond, run.outcomes, autocommit)) {
      out.status = ph::step_outcome::state::skipped;
      continue;
    }
    if ((run.move_to = elsewhere(s, where, autocommit, settings))) break;
    if ((run.move_to = run_step(conn, where, s, out, settings))) break;
    if (out.status == ph::step_outcome::state::failed && run.stop_on_error) {
      run.next = run.steps.size();
      break;
    }
    if (where == place::pinned && !autocommit && in_autocommit(conn, where)) {  // its read transaction ended
      if (++run.next < run.steps.size()) run.move_to = first_place(run, settings);
      break;
    }
  }
  run.transaction_open = !in_autocommit(conn, where);
}

place first_place(const batch_run& run, const stream_settings& settings) {
  if (run.next >= run.steps.size()) return place::shared_reader;
  return elsewhere(run.steps[run.next], place::shared_reader, true, settings).value_or(place::shared_reader);
}

boost::system::result<proto::statement_description, ph::error> describe(db::connection& conn, const std::string& sql) {
  const auto tc = db::classify_transaction(sql);
  if (tc != transaction_control::none || db::foreign_keys_setting(sql)) {
    proto::statement_description d;
    d.is_readonly = tc != transaction_control::none;
    return d;
  }
  auto d = db::describe_statement(conn, sql);
  if (!d) return statement_error(d.error(), sql);
  return std::move(*d);
}

ph::error transaction_timeout_error() {
  return make_error("TRANSACTION_TIMEOUT",
                    "the transaction stayed open longer than the transaction timeout and was rolled back");
}

}  // namespace monolite::actors::hrana
