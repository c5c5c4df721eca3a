#include "move/mover.hpp"

#include <chrono>
#include <cstdio>
#include <future>
#include <random>

#include "move/copy.hpp"
#include "move/schema.hpp"
#include "move/sqlite_source.hpp"
#include "move/staging.hpp"
#include "move/verify.hpp"
#include "pg/quote.hpp"

namespace monolite::move {
namespace {

using clock_type = std::chrono::steady_clock;

struct run_state {
  explicit run_state(const move_options& o) : options(o) {}
  const move_options& options;
  sqlite_source db;
  pg::connection* pg = nullptr;
  schema source;
  std::vector<row_sum> copied;  // the SQLite side of each table's checksum, computed by its copy
  move_outcome outcome;
  std::string staging;
  std::string nocase;  // the qualified collation standing for NOCASE
  bool own_collation = false;
  clock_type::time_point started = clock_type::now();
};

// Adds the seconds since `since` as phase `name` and restarts `since`.
void end_phase(run_state& s, const char* name, clock_type::time_point& since) {
  const auto now = clock_type::now();
  s.outcome.summary.phases.emplace_back(name, std::chrono::duration<double>(now - since).count());
  since = now;
}

move_outcome failed(move_outcome outcome, int code, std::string why) {
  outcome.exit_code = code;
  outcome.error = std::move(why);
  return outcome;
}

std::string staging_name() {
  std::random_device random;
  char suffix[17];
  std::snprintf(suffix, sizeof suffix, "%08x%08x", random(), random());
  return std::string(staging_prefix) + suffix;
}

void show_progress(const move_options& options, const std::string& table, std::int64_t rows, std::int64_t total,
                   clock_type::time_point since) {
  if (!options.progress) return;
  const double seconds = std::chrono::duration<double>(clock_type::now() - since).count();
  const double rate = seconds > 0 ? static_cast<double>(rows) / seconds : 0;
  const double eta = rate > 0 ? static_cast<double>(total - rows) / rate : 0;
  std::fprintf(stderr, "\r%-24s %12lld rows %10.0f rows/s ETA %5.0fs", table.c_str(), static_cast<long long>(rows),
               rate, eta);
  if (rows >= total) std::fprintf(stderr, "\n");
}

// Columns of the target that are text where our mapping says otherwise: mapped by --on-mismatch text.
pg::result<void> read_target_text_columns(run_state& s) {
  for (auto& table : s.source.tables) {
    auto columns = s.pg->exec_params(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2",
        {s.options.schema, table.name});
    if (!columns) return columns.error();
    for (auto& c : table.columns) {
      for (const auto& row : columns->values) {
        if (*row[0] == c.name && *row[1] == "text" && c.type.k != kind::text) c.as_text = true;
      }
    }
  }
  return {};
}

pg::result<bool> verify_all(run_state& s, const std::string& schema) {
  bool all_same = true;
  for (std::size_t i = 0; i < s.source.tables.size(); ++i) {
    const auto& table = s.source.tables[i];
    std::string checksum;
    const row_sum* sqlite_side = i < s.copied.size() ? &s.copied[i] : nullptr;
    auto same = verify_table(s.db, *s.pg, schema, table, sqlite_side, checksum, s.outcome.summary);
    if (!same) return same.error();
    if (!*same) s.outcome.summary.verify_failed_tables.push_back(table.name);
    all_same = all_same && *same;
    bool listed = false;
    for (auto& t : s.outcome.summary.tables) {
      if (t.name == table.name) t.checksum = checksum, listed = true;
    }
    if (!listed) s.outcome.summary.tables.push_back({table.name, 0, 0, 0, checksum});
  }
  s.outcome.summary.verified = true;
  s.outcome.summary.verify_ok = all_same;
  return all_same;
}

// The ICU collation for NOCASE: the target's when an earlier move left one, else a new one in staging.
pg::result<void> prepare_collation(run_state& s) {
  auto found = s.pg->exec_params(
      "SELECT 1 FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace "
      "WHERE n.nspname = $1 AND c.collname = 'monolite_nocase'",
      {s.options.schema});
  if (!found) return found.error();
  if (!found->values.empty()) {
    s.nocase = pg::qualified(s.options.schema, "monolite_nocase");
    return {};
  }
  s.nocase = pg::qualified(s.staging, "monolite_nocase");
  s.own_collation = true;
  auto created = s.pg->exec(create_nocase_collation_sql(s.nocase));
  if (!created) return created.error();
  return {};
}

// CREATE TABLE; when PostgreSQL refuses a generated column's expression, the column becomes a
// plain one holding SQLite's values (reported).
pg::result<void> create_table(run_state& s, table_def& table) {
  for (auto& c : table.columns)
    c.computed_in_pg = c.hidden >= 2 && !c.generated.empty();
  auto& report = s.outcome.summary.untranslated_objects;
  auto created = s.pg->exec(create_table_sql(table, s.nocase, report));
  if (created) return {};
  bool retried = false;
  for (auto& c : table.columns) {
    if (!c.computed_in_pg) continue;
    c.computed_in_pg = false;
    retried = true;
    report.push_back(
        {"generated", table.name + "." + c.name,
         "AS (" + c.generated + ") does not translate (" + created.error().message + "); copied as a plain column"});
  }
  if (!retried) return created.error();
  std::vector<untranslated> again;
  auto plain = s.pg->exec(create_table_sql(table, s.nocase, again));
  if (!plain) return plain.error();
  return {};
}

pg::result<void> reset_sequences(run_state& s) {
  for (const auto& table : s.source.tables) {
    for (const auto& c : table.columns) {
      if (!c.identity) continue;
      const std::string sql = "SELECT setval(pg_get_serial_sequence(" + pg::quote_literal(pg::quote_ident(table.name)) +
                              ", " + pg::quote_literal(c.name) + "), GREATEST(max(" + pg::quote_ident(c.name) + "), " +
                              std::to_string(table.sequence) + ", 1), max(" + pg::quote_ident(c.name) +
                              ") IS NOT NULL OR " + std::to_string(table.sequence) + " > 0) FROM " +
                              pg::quote_ident(table.name);
      if (auto done = s.pg->exec(sql); !done) return done.error();
    }
  }
  return {};
}

// After a value that does not fit: the other tables are only scanned, for the report.
pg::result<void> scan_rest(run_state& s, std::size_t from) {
  for (std::size_t i = from; i < s.source.tables.size(); ++i) {
    auto& table = s.source.tables[i];
    if (auto error = scan_mismatches(s.db, table, false, s.outcome.summary); !error.empty())
      return pg::error{"58000", "reading " + table.name + " from SQLite: " + error, {}, {}, 0, {}};
  }
  return {};
}

pg::result<void> load_tables(run_state& s, const std::vector<std::int64_t>& totals) {
  for (std::size_t i = 0; i < s.source.tables.size(); ++i) {
    auto& table = s.source.tables[i];
    if (auto created = create_table(s, table); !created) return created.error();
    const auto since = clock_type::now();
    auto& checksum = s.copied.emplace_back();
    // Without --on-mismatch text the copy is the mismatch scan (with it, scan_all ran before).
    report* check = s.options.mismatch_as_text ? nullptr : &s.outcome.summary;
    auto copied = copy_table(s.db, *s.pg, table, checksum, check, [&](const std::string& name, std::int64_t rows) {
      show_progress(s.options, name, rows, totals[i], since);
    });
    if (!copied) return copied.error();
    s.outcome.summary.tables.push_back(*copied);
    if (s.outcome.summary.mismatch_count > 0) return scan_rest(s, i + 1);
  }
  return {};
}

// Keys and indexes over --jobs connections, then CHECKs.
pg::result<void> add_indexes_and_checks(run_state& s) {
  std::vector<statement> indexes, checks;
  for (const auto& t : s.source.tables) {
    for (auto& st : index_statements(t, s.nocase))
      indexes.push_back(st);
    for (auto& st : check_statements(t, s.nocase))
      checks.push_back(st);
  }
  auto& refused = s.outcome.summary.untranslated_objects;
  if (auto built = run_parallel(s.options.url, s.staging, indexes, s.options.jobs, refused); !built)
    return built.error();
  return run_each(*s.pg, checks, refused);
}

// The verification, while another connection adds the foreign keys: their validation scans only
// read the tables (its lock lets the verification's reads through), so the two overlap.
pg::result<bool> verify_with_foreign_keys(run_state& s) {
  std::vector<statement> foreign_keys;
  for (const auto& t : s.source.tables) {
    for (auto& st : foreign_key_statements(t))
      foreign_keys.push_back(st);
  }
  std::vector<untranslated> refused;
  auto adding =
      std::async(std::launch::async, [&] { return run_parallel(s.options.url, s.staging, foreign_keys, 1, refused); });
  auto same = verify_all(s, s.staging);
  auto added = adding.get();
  auto& report = s.outcome.summary.untranslated_objects;
  report.insert(report.end(), refused.begin(), refused.end());
  if (!added) return added.error();
  return same;
}

// Views, what is not translated, the sequences.
pg::result<void> add_rest(run_state& s) {
  auto& refused = s.outcome.summary.untranslated_objects;
  std::vector<statement> views;
  for (const auto& v : s.source.views)
    views.push_back(view_statement(v, s.nocase));
  if (auto added = run_each(*s.pg, views, refused); !added) return added.error();
  for (const auto& t : s.source.triggers) {
    refused.push_back({"trigger", t.name, "triggers are not translated: " + t.sql});
  }
  for (const auto& skipped : s.source.skipped)
    refused.push_back({"table", skipped, "not moved"});
  return reset_sequences(s);
}

std::vector<std::string> created_views(run_state& s) {
  std::vector<std::string> out;
  for (const auto& v : s.source.views) {
    bool refused = false;
    for (const auto& u : s.outcome.summary.untranslated_objects)
      refused = refused || (u.kind == "view" && u.name == "view " + v.name);
    if (!refused) out.push_back(v.name);
  }
  return out;
}

pg::result<void> load_and_commit(run_state& s, const std::vector<std::int64_t>& totals,
                                 const std::vector<std::string>& replaced, bool& verified) {
  // The load does not wait for WAL flushes: a crash loses only the staging schema, and the final
  // transaction commits with synchronous_commit back on, which flushes everything before it.
  auto set = s.pg->exec("CREATE SCHEMA " + pg::quote_ident(s.staging) + "; SET search_path TO " +
                        pg::quote_ident(s.staging) + "; SET synchronous_commit = off");
  if (!set) return set.error();
  if (auto collation = prepare_collation(s); !collation) return collation.error();
  auto since = clock_type::now();
  if (auto loaded = load_tables(s, totals); !loaded) return loaded.error();
  end_phase(s, "copy", since);
  if (s.outcome.summary.mismatch_count > 0) return {};  // not verified: the staging schema is dropped
  if (auto added = add_indexes_and_checks(s); !added) return added.error();
  end_phase(s, "indexes", since);
  auto same = verify_with_foreign_keys(s);
  if (!same) return same.error();
  end_phase(s, "verify", since);  // and the foreign keys
  verified = *same;
  if (!verified) return {};
  if (auto added = add_rest(s); !added) return added.error();
  if (auto durable = s.pg->exec("SET synchronous_commit = on"); !durable) return durable.error();
  final_move plan{s.staging, s.options.schema, {}, created_views(s), replaced, s.own_collation};
  for (const auto& t : s.source.tables)
    plan.tables.push_back(t.name);
  auto committed = commit_move(*s.pg, plan);
  end_phase(s, "commit", since);
  return committed;
}

std::vector<std::int64_t> scan_all(run_state& s, std::string& error) {
  std::vector<std::int64_t> totals;
  for (auto& table : s.source.tables) {
    if (s.options.mismatch_as_text) {
      if (error = scan_mismatches(s.db, table, true, s.outcome.summary); !error.empty()) break;
    }
    if (!s.options.progress) {
      totals.push_back(0);  // only the progress lines need the totals: one pass less
      continue;
    }
    auto count = s.db.text_rows("SELECT count(*) FROM " + sqlite_ident(table.name));
    totals.push_back(count.empty() ? 0 : std::stoll(count[0][0]));
  }
  return totals;
}

move_outcome verify_only(run_state& s) {
  if (auto read = read_target_text_columns(s); !read) return failed(std::move(s.outcome), 3, read.error().describe());
  auto same = verify_all(s, s.options.schema);
  if (!same) return failed(std::move(s.outcome), 3, same.error().describe());
  if (!*same) return failed(std::move(s.outcome), 1, "verify failed: the target differs from the SQLite database");
  return std::move(s.outcome);
}

// Only the staging schema (dropped) has seen rows: the target is unchanged.
move_outcome mismatched(run_state& s) {
  const auto count = std::to_string(s.outcome.summary.mismatch_count);
  return failed(std::move(s.outcome), 1, count + " values do not fit their column's type; nothing was written");
}

move_outcome move_all(run_state& s) {
  auto locked = take_move_lock(*s.pg);
  if (!locked) return failed(std::move(s.outcome), 3, locked.error().describe());
  if (!*locked) return failed(std::move(s.outcome), 3, "another monolite move is running against this database");
  if (auto dropped = drop_stale_staging(*s.pg); !dropped)
    return failed(std::move(s.outcome), 3, dropped.error().describe());
  std::vector<std::string> names;
  for (const auto& t : s.source.tables)
    names.push_back(t.name);
  for (const auto& v : s.source.views)
    names.push_back(v.name);
  auto clashes = existing_relations(*s.pg, s.options.schema, names);
  if (!clashes) return failed(std::move(s.outcome), 3, clashes.error().describe());
  if (!clashes->empty() && !s.options.replace) {
    std::string list;
    for (const auto& c : *clashes)
      list += (list.empty() ? "" : ", ") + c;
    return failed(std::move(s.outcome), 3,
                  "schema " + s.options.schema + " already has " + list + " (--replace drops and replaces them)");
  }
  std::string error;
  auto since = clock_type::now();
  const auto totals = scan_all(s, error);
  end_phase(s, "scan", since);
  if (!error.empty()) return failed(std::move(s.outcome), 3, "reading SQLite: " + error);
  if (s.outcome.summary.mismatch_count > 0) return mismatched(s);
  s.staging = staging_name();
  bool verified = false;
  auto done = load_and_commit(s, totals, *clashes, verified);
  if (!done || !verified) (void)s.pg->exec("DROP SCHEMA IF EXISTS " + pg::quote_ident(s.staging) + " CASCADE");
  if (!done) return failed(std::move(s.outcome), 3, done.error().describe());
  if (s.outcome.summary.mismatch_count > 0) return mismatched(s);
  if (!verified) return failed(std::move(s.outcome), 1, "verify failed in the staging schema; the target is unchanged");
  return std::move(s.outcome);
}

}  // namespace

move_outcome run_move(const move_options& options) {
  run_state s(options);
  s.outcome.summary.target_schema = options.schema;
  if (auto error = sqlite_source::open(options.db_path, s.db)) return failed(std::move(s.outcome), 3, *error);
  auto pg = pg::connection::open(options.url);
  if (!pg) return failed(std::move(s.outcome), 3, "cannot connect to PostgreSQL: " + pg.error().describe());
  s.pg = &*pg;
  s.source = read_schema(s.db);
  auto outcome = options.verify_only ? verify_only(s) : move_all(s);
  outcome.summary.seconds = std::chrono::duration<double>(clock_type::now() - s.started).count();
  return outcome;
}

}  // namespace monolite::move
