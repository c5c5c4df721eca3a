#include "move/portability.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <fstream>

#include "pg/quote.hpp"

namespace monolite::move {
namespace {

std::optional<logged_statement> statement_from(const std::string& line) {
  boost::system::error_code ec;
  const auto parsed = boost::json::parse(line, ec);
  const auto* object = ec ? nullptr : parsed.if_object();
  const auto* sql = object ? object->if_contains("sql") : nullptr;
  if (sql == nullptr || !sql->is_string()) return std::nullopt;
  logged_statement out;
  out.sql = std::string(sql->as_string());
  const auto number = [&](const char* key) -> std::int64_t {
    const auto* v = object->if_contains(key);
    return v != nullptr && v->is_int64() ? v->as_int64() : (v != nullptr && v->is_uint64() ? v->as_uint64() : 0);
  };
  out.count = static_cast<std::uint64_t>(number("count"));
  out.first_seen = number("first_seen");
  out.last_seen = number("last_seen");
  return out;
}

// Errors PostgreSQL raises only because a parameter's type is not known yet: the server that
// runs the statement binds typed values (or casts), so these are not the statement's fault.
bool placeholder_only(const std::string& sqlstate) { return sqlstate == "42P18" || sqlstate == "42P08"; }

// A schema statement that finds its object already there (the move created it): not a
// portability problem. duplicate table, object, column, schema, function.
bool already_there(const std::string& sqlstate) {
  return sqlstate == "42P07" || sqlstate == "42710" || sqlstate == "42701" || sqlstate == "42P06" ||
         sqlstate == "42723";
}

void fail(statement_check& check, const pg::error& e) {
  check.passed = false;
  check.problem = e.message;
  check.sqlstate = e.sqlstate;
  for (auto& hint : hints_from_error(check.statement.sql, e.sqlstate, e.message))
    check.instead.push_back(std::move(hint));
}

// Prepared, yet PostgreSQL would refuse it when it runs.
void refused_when_run(statement_check& check) {
  for (auto& ism : find_sqlite_isms(check.statement.sql)) {
    if (ism.refused_when_run.empty()) continue;
    check.passed = false;
    check.problem = "prepares, but is refused when it runs: " + ism.refused_when_run;
    check.instead.push_back(std::move(ism));
  }
}

pg::result<void> as_void(const pg::result<pg::rows>& outcome) {
  if (!outcome) return outcome.error();
  return {};
}

// Runs one statement's check inside a savepoint that is always rolled back.
pg::result<void> check_one(pg::connection& target, statement_check& check) {
  check.kind = classify_statement(check.statement.sql);
  if (check.kind == statement_kind::empty) return {};
  if (check.kind == statement_kind::transaction || check.kind == statement_kind::sqlite_only) {
    // Not prepared (the server runs these itself), but a SQLite-only form still needs a change.
    check.instead = find_sqlite_isms(check.statement.sql);
    check.passed = check.instead.empty();
    if (!check.passed) check.problem = "a SQLite-only form with no PostgreSQL counterpart";
    return {};
  }
  if (auto saved = target.exec("SAVEPOINT portability"); !saved) return saved.error();
  const auto text = to_postgres_placeholders(check.statement.sql);
  // Schema statements are run (PostgreSQL prepares only queries); queries are only prepared.
  const auto outcome = check.kind == statement_kind::schema && text.parameters == 0 ? as_void(target.exec(text.sql))
                                                                                    : target.prepare("", text.sql);
  const bool fine = !outcome && (placeholder_only(outcome.error().sqlstate) ||
                                 (check.kind == statement_kind::schema && already_there(outcome.error().sqlstate)));
  if (!outcome && !fine) {
    check.instead = find_sqlite_isms(check.statement.sql);
    fail(check, outcome.error());
  } else {
    refused_when_run(check);
  }
  if (auto undone = target.exec("ROLLBACK TO SAVEPOINT portability"); !undone) return undone.error();
  return {};
}

}  // namespace

boost::system::result<std::vector<logged_statement>, std::string> read_statement_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) return "cannot open the statement log " + path;
  std::vector<logged_statement> out;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto statement = statement_from(line);
    if (!statement) return path + ":" + std::to_string(number) + ": not a statement log line (want {\"sql\": …})";
    out.push_back(std::move(*statement));
  }
  if (in.bad()) return "cannot read the statement log " + path;
  return out;
}

pg::result<portability_report> check_portability(pg::connection& target, std::vector<logged_statement> statements,
                                                 const std::string& schema) {
  std::stable_sort(statements.begin(), statements.end(),
                   [](const auto& a, const auto& b) { return a.count > b.count; });
  if (auto begun = target.exec("BEGIN"); !begun) return begun.error();
  if (auto path = target.exec("SET LOCAL search_path TO " + pg::quote_ident(schema) + ", public"); !path)
    return path.error();
  portability_report report;
  for (auto& statement : statements) {
    statement_check check;
    check.statement = std::move(statement);
    if (auto checked = check_one(target, check); !checked) return checked.error();
    report.failed += check.passed ? 0 : 1;
    report.checks.push_back(std::move(check));
  }
  // Nothing a check did may stay: the schema statements ran inside this transaction.
  if (auto undone = target.exec("ROLLBACK"); !undone) return undone.error();
  return report;
}

}  // namespace monolite::move
