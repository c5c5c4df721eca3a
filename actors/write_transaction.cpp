#include "actors/write_transaction.hpp"

#include <sqlite3.h>

#include <chrono>

#include "db/statement.hpp"

namespace monolite::actors {
namespace {

using clock = std::chrono::steady_clock;

double elapsed_ms(clock::time_point since) {
  return std::chrono::duration<double, std::milli>(clock::now() - since).count();
}

proto::result<std::vector<proto::statement_result>> run_statements(db::connection& conn,
                                                                  const proto::write_request& request) {
  std::vector<proto::statement_result> results;
  results.reserve(request.statements.size());
  for (std::size_t i = 0; i < request.statements.size(); ++i) {
    auto r = db::run_statement(conn, request.statements[i], {false, request.want_rows});
    if (!r) {
      auto error = r.error();
      if (request.statements.size() > 1)
        error.message = "statement " + std::to_string(i + 1) + ": " + error.message;
      return error;
    }
    results.push_back(std::move(*r));
  }
  return results;
}

// One request inside its savepoint. A failure rolls back to the savepoint; the rest of the
// group is untouched.
write_outcome run_in_savepoint(db::connection& conn, const proto::write_request& request) {
  const auto start = clock::now();
  write_outcome outcome;
  if (auto ok = conn.exec("SAVEPOINT monolite_request"); !ok) {
    outcome.results = ok.error();
    return outcome;
  }
  outcome.results = run_statements(conn, request);
  if (!outcome.results && !sqlite3_get_autocommit(conn.handle()))
    (void)conn.exec("ROLLBACK TO monolite_request");
  if (!sqlite3_get_autocommit(conn.handle())) (void)conn.exec("RELEASE monolite_request");
  outcome.time_ms = elapsed_ms(start);
  return outcome;
}

void fail_all(std::vector<write_outcome>& outcomes, std::size_t count, const proto::api_error& error) {
  outcomes.resize(count);
  for (auto& o : outcomes) o.results = error;
}

}  // namespace

std::vector<write_outcome> run_group_commit(db::connection& conn,
                                            const std::vector<const proto::write_request*>& requests) {
  std::vector<write_outcome> outcomes;
  outcomes.reserve(requests.size());
  if (auto begun = conn.exec("BEGIN IMMEDIATE"); !begun) {
    fail_all(outcomes, requests.size(), begun.error());
    return outcomes;
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    outcomes.push_back(run_in_savepoint(conn, *requests[i]));
    // Some errors (disk full, I/O) make SQLite roll back the whole transaction: the culprit keeps
    // its own error, the others learn that their work was not committed.
    if (sqlite3_get_autocommit(conn.handle())) {
      auto culprit = std::move(outcomes[i]);
      const std::string why = culprit.results ? "unknown cause" : culprit.results.error().message;
      fail_all(outcomes, requests.size(),
               proto::internal_error("SQLite rolled back the group commit: " + why));
      outcomes[i] = std::move(culprit);
      return outcomes;
    }
  }
  if (auto committed = conn.exec("COMMIT"); !committed) {
    (void)conn.exec("ROLLBACK");
    fail_all(outcomes, requests.size(), committed.error());
  }
  return outcomes;
}

}  // namespace monolite::actors
