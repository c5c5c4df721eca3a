#include "move/staging.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include "pg/quote.hpp"

namespace monolite::move {
namespace {

using pg::quote_ident;
using pg::quote_literal;

pg::result<pg::connection> open_in(const std::string& url, const std::string& schema) {
  auto pg = pg::connection::open(url);
  if (!pg) return pg.error();
  // Index builds sort in memory rather than in temporary files; their commits need no flush
  // (the final transaction's commit flushes them).
  auto set = pg->exec("SET search_path TO " + quote_ident(schema) +
                      "; SET maintenance_work_mem = '256MB'; SET synchronous_commit = off");
  if (!set) return set.error();
  return pg;
}

}  // namespace

pg::result<bool> take_move_lock(pg::connection& pg) {
  auto locked = pg.exec("SELECT pg_try_advisory_lock(hashtext('monolite move'))");
  if (!locked) return locked.error();
  return locked->values.at(0).at(0) == "t";
}

pg::result<int> drop_stale_staging(pg::connection& pg) {
  auto stale = pg.exec("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'monolite\\_move\\_%'");
  if (!stale) return stale.error();
  for (const auto& row : stale->values) {
    if (auto dropped = pg.exec("DROP SCHEMA " + quote_ident(*row[0]) + " CASCADE"); !dropped) return dropped.error();
  }
  return static_cast<int>(stale->values.size());
}

pg::result<std::vector<std::string>> existing_relations(pg::connection& pg, const std::string& schema,
                                                        const std::vector<std::string>& names) {
  auto found = pg.exec_params(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
      {schema});
  if (!found) return found.error();
  std::vector<std::string> out;
  for (const auto& row : found->values) {
    for (const auto& name : names) {
      if (*row[0] == name) out.push_back(name);
    }
  }
  return out;
}

pg::result<void> run_each(pg::connection& pg, const std::vector<statement>& statements,
                          std::vector<untranslated>& refused) {
  for (const auto& s : statements) {
    auto done = pg.exec(s.sql);
    if (done) continue;
    if (done.error().sqlstate.rfind("08", 0) == 0) return done.error();
    refused.push_back({s.kind, s.object, "PostgreSQL refused " + s.sql + ": " + done.error().describe()});
  }
  return {};
}

pg::result<void> run_parallel(const std::string& url, const std::string& schema,
                              const std::vector<statement>& statements, int jobs, std::vector<untranslated>& refused) {
  std::atomic<std::size_t> next{0};
  std::mutex guard;
  std::optional<pg::error> failure;
  auto worker = [&] {
    auto pg = open_in(url, schema);
    if (!pg) {
      std::lock_guard lock(guard);
      failure = pg.error();
      return;
    }
    for (std::size_t i; (i = next++) < statements.size();) {
      std::vector<untranslated> mine;
      auto ran = run_each(*pg, {statements[i]}, mine);
      std::lock_guard lock(guard);
      if (!ran) failure = ran.error();
      refused.insert(refused.end(), mine.begin(), mine.end());
    }
  };
  std::vector<std::thread> workers;
  for (int j = 0; j < std::max(1, jobs); ++j)
    workers.emplace_back(worker);
  for (auto& w : workers)
    w.join();
  if (failure) return *failure;
  return {};
}

pg::result<void> commit_move(pg::connection& pg, const final_move& plan) {
  std::string sql = "BEGIN;\nCREATE SCHEMA IF NOT EXISTS " + quote_ident(plan.target) + ";\n";
  for (const auto& name : plan.replaced) {
    sql += "DROP TABLE IF EXISTS " + pg::qualified(plan.target, name) + " CASCADE;\n";
    sql += "DROP VIEW IF EXISTS " + pg::qualified(plan.target, name) + " CASCADE;\n";
  }
  if (plan.move_collation) {
    sql += "ALTER COLLATION " + pg::qualified(plan.staging, "monolite_nocase") + " SET SCHEMA " +
           quote_ident(plan.target) + ";\n";
  }
  for (const auto& t : plan.tables) {
    sql += "ALTER TABLE " + pg::qualified(plan.staging, t) + " SET SCHEMA " + quote_ident(plan.target) + ";\n";
  }
  for (const auto& v : plan.views) {
    sql += "ALTER VIEW " + pg::qualified(plan.staging, v) + " SET SCHEMA " + quote_ident(plan.target) + ";\n";
  }
  // RESTRICT: anything still in the staging schema is a bug to see, not to drop with CASCADE.
  sql += "DROP SCHEMA " + quote_ident(plan.staging) + " RESTRICT;\nCOMMIT";
  auto done = pg.exec(sql);
  if (!done) {
    (void)pg.exec("ROLLBACK");
    return done.error();
  }
  (void)quote_literal;
  return {};
}

}  // namespace monolite::move
