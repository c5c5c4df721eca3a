#include "actors/write_transaction.hpp"

#include <sqlite3.h>

#include <chrono>
#include <optional>

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
      if (request.statements.size() > 1) error.message = "statement " + std::to_string(i + 1) + ": " + error.message;
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
  if (!outcome.results && !sqlite3_get_autocommit(conn.handle())) (void)conn.exec("ROLLBACK TO monolite_request");
  if (!sqlite3_get_autocommit(conn.handle())) (void)conn.exec("RELEASE monolite_request");
  outcome.time_ms = elapsed_ms(start);
  return outcome;
}

void fail_all(std::vector<write_outcome*>& outcomes, const proto::api_error& error) {
  for (auto* o : outcomes)
    o->results = error;
}

// One transaction over `requests`. Returns the index of a request that made SQLite roll the whole
// transaction back (an interrupted write, disk full, an I/O error), after storing its outcome;
// nullopt when the transaction ended (committed, or failed for everyone).
std::optional<std::size_t> try_group(db::connection& conn, const std::vector<const proto::write_request*>& requests,
                                     std::vector<write_outcome*>& outcomes) {
  if (auto begun = conn.exec("BEGIN IMMEDIATE"); !begun) {
    fail_all(outcomes, begun.error());
    return std::nullopt;
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    *outcomes[i] = run_in_savepoint(conn, *requests[i]);
    if (sqlite3_get_autocommit(conn.handle())) {
      if (outcomes[i]->results) outcomes[i]->results = proto::internal_error("SQLite rolled back the transaction");
      return i;
    }
  }
  if (auto committed = conn.exec("COMMIT"); !committed) {
    (void)conn.exec("ROLLBACK");
    fail_all(outcomes, committed.error());
  }
  return std::nullopt;
}

}  // namespace

std::vector<write_outcome> run_group_commit(db::connection& conn,
                                            const std::vector<const proto::write_request*>& requests) {
  std::vector<write_outcome> outcomes(requests.size());
  auto pending = requests;
  std::vector<write_outcome*> pending_outcomes;
  for (auto& o : outcomes)
    pending_outcomes.push_back(&o);
  // When one request takes the whole transaction down, it keeps its error and the others run
  // again without it: an innocent request never fails because of its neighbour.
  while (auto culprit = try_group(conn, pending, pending_outcomes)) {
    pending.erase(pending.begin() + static_cast<long>(*culprit));
    pending_outcomes.erase(pending_outcomes.begin() + static_cast<long>(*culprit));
    if (pending.empty()) break;
  }
  return outcomes;
}

}  // namespace monolite::actors
